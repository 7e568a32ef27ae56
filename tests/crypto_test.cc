// The sealed store's primitives (src/store/crypto.h): records open only with their key and
// position, derived keys differ per position and group, the stream cipher decrypts any part of a
// file on its own, keyed hashes depend on the key.
#include "store/crypto.h"

#include <string>

#include "gtest/gtest.h"

namespace omnijourney::internal::crypto {
namespace {

TEST(CryptoTest, ASealedRecordOpensOnlyWithItsKeyAndPosition) {
  const Key group = RandomKey();
  const Key k1 = RecordKey(group, 1);
  EXPECT_EQ(k1, RecordKey(group, 1));
  EXPECT_NE(k1, RecordKey(group, 2));
  EXPECT_NE(k1, RecordKey(RandomKey(), 1));
  std::string sealed;
  SealOnce(k1, "customer eva@example.com", "pos-1", &sealed);
  EXPECT_EQ(sealed.size(), std::string("customer eva@example.com").size() + kSealOverhead);
  EXPECT_EQ(sealed.find("eva@example.com"), std::string::npos);
  std::string plain;
  ASSERT_TRUE(OpenOnce(k1, sealed, "pos-1", &plain));
  EXPECT_EQ(plain, "customer eva@example.com");
  EXPECT_FALSE(OpenOnce(RecordKey(group, 2), sealed, "pos-1", &plain));
  EXPECT_FALSE(OpenOnce(k1, sealed, "pos-2", &plain));  // Moved to another position.
  std::string tampered = sealed;
  tampered[3] ^= 1;
  EXPECT_FALSE(OpenOnce(k1, tampered, "pos-1", &plain));
  EXPECT_FALSE(OpenOnce(k1, "short", "pos-1", &plain));
}

TEST(CryptoTest, SealerUsesAFreshNonceEachTimeAndOnlyItOpens) {
  Sealer sealer;
  std::string a, b, plain;
  sealer.Seal("same text", &a);
  sealer.Seal("same text", &b);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), std::string("same text").size() + Sealer::kOverhead);
  ASSERT_TRUE(sealer.Open(b, &plain));
  EXPECT_EQ(plain, "same text");
  ASSERT_TRUE(sealer.Open(a, &plain));
  EXPECT_EQ(plain, "same text");
  Sealer other;
  EXPECT_FALSE(other.Open(a, &plain));
  std::string tampered = a;
  tampered[tampered.size() - 1] ^= 1;
  EXPECT_FALSE(sealer.Open(tampered, &plain));
  tampered = a;
  tampered[0] ^= 1;  // Another nonce.
  EXPECT_FALSE(sealer.Open(tampered, &plain));
  EXPECT_FALSE(sealer.Open("short", &plain));
}

TEST(CryptoTest, StreamAtAnyOffsetMatchesTheWholeStream) {
  const Key key = RandomKey();
  const std::array<uint8_t, kStreamNonceBytes> nonce = {1, 2, 3};
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::string whole = data;
  XorAt(key, nonce, 0, whole.data(), whole.size());
  EXPECT_NE(whole, data);
  for (size_t begin : {0, 1, 63, 64, 65, 130, 999}) {
    for (size_t n : {0, 1, 5, 64, 200}) {
      if (begin + n > data.size()) continue;
      std::string part = whole.substr(begin, n);
      XorAt(key, nonce, begin, part.data(), part.size());
      EXPECT_EQ(part, data.substr(begin, n)) << begin << "+" << n;
    }
  }
}

TEST(CryptoTest, KeyedHashesDependOnTheKey) {
  const Key a = RandomKey(), b = RandomKey();
  EXPECT_EQ(KeyedHash(a, "tenant/source/id"), KeyedHash(a, "tenant/source/id"));
  EXPECT_NE(KeyedHash(a, "tenant/source/id"), KeyedHash(b, "tenant/source/id"));
  EXPECT_NE(KeyedHash(a, "tenant/source/id"), KeyedHash(a, "tenant/source/id2"));
  EXPECT_FALSE(KeyFrom("short").has_value());
  EXPECT_EQ(*KeyFrom(Bytes(a)), a);
}

}  // namespace
}  // namespace omnijourney::internal::crypto
