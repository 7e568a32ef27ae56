// Phone number validity as libphonenumber decides it (PhoneNumberUtil::IsValidNumber), from the
// same metadata (the library's compiled-in PhoneMetadataCollection), with its national number
// patterns compiled once into RE2. libphonenumber's own check builds an ICU regular-expression
// matcher for every pattern it tries, about 50,000 instructions per number; every new phone
// identifier is checked, so that was a third of the engine's ingest.
//
// The decision follows PhoneNumberUtil step by step: the region of the number (the calling code's
// only region, else the first of its regions, in the library's order, whose leading digits start
// the national significant number or whose patterns accept it), then the general description of
// that region and at least one number type (premium rate, toll free, shared cost, VoIP, personal,
// pager, UAN, voicemail, fixed line, mobile), each checked on its possible lengths first and then
// on a full match of its pattern. tests/phone_validity_test.cc compares the two on every region's
// example numbers and on random numbers of every calling code and length.
//
// Thread-safety: thread-safe; a region's patterns are compiled on first use.
#ifndef OMNIJOURNEY_SRC_IDENTITY_PHONE_VALIDITY_H_
#define OMNIJOURNEY_SRC_IDENTITY_PHONE_VALIDITY_H_

#include <phonenumbers/phonenumber.pb.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "re2/re2.h"

namespace omnijourney::internal {

class PhoneValidity {
 public:
  // The process's instance (built on first use, from libphonenumber's metadata).
  static const PhoneValidity& Get();

  // The same answer as PhoneNumberUtil::GetInstance()->IsValidNumber(number).
  bool IsValid(const i18n::phonenumbers::PhoneNumber& number) const;

  PhoneValidity(const PhoneValidity&) = delete;
  PhoneValidity& operator=(const PhoneValidity&) = delete;

 private:
  struct Desc {
    std::vector<int> lengths;       // Possible lengths; empty: any.
    std::string source;             // The national number pattern; empty: matches nothing.
    std::unique_ptr<RE2> pattern;   // Compiled on first use of the region.
  };
  struct Region {
    std::string id;
    std::string leading_digits_source;
    std::unique_ptr<RE2> leading_digits;
    Desc general;
    std::vector<Desc> types;  // In PhoneNumberUtil::GetNumberTypeHelper's order, mobile last.
    bool same_mobile_and_fixed_line = false;
    mutable absl::once_flag compiled;
  };

  PhoneValidity();
  const Region& Compiled(const Region& region) const;
  static bool Matches(const Desc& desc, const std::string& national);
  bool HasType(const Region& region, const std::string& national) const;

  std::vector<std::unique_ptr<Region>> regions_;
  absl::flat_hash_map<std::string, const Region*> by_id_;          // Geographical regions.
  absl::flat_hash_map<int, const Region*> non_geographical_;       // "001", by calling code.
  absl::flat_hash_map<int, std::vector<const Region*>> by_code_;   // The library's order.
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_PHONE_VALIDITY_H_
