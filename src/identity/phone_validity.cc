#include "identity/phone_validity.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <list>
#include <set>

namespace i18n::phonenumbers {
// libphonenumber's compiled-in metadata (a serialized PhoneMetadataCollection), exported by the
// library and declared in its metadata.h, which is not installed.
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace omnijourney::internal {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr const char kNonGeographical[] = "001";
constexpr const char kUnknownRegion[] = "ZZ";

}  // namespace

const PhoneValidity& PhoneValidity::Get() {
  static const PhoneValidity* const instance = new PhoneValidity();
  return *instance;
}

PhoneValidity::PhoneValidity() {
  i18n::phonenumbers::PhoneMetadataCollection collection;
  if (!collection.ParseFromArray(i18n::phonenumbers::metadata_get(), i18n::phonenumbers::metadata_size())) return;
  auto desc = [](const PhoneNumberDesc& d) {
    Desc out;
    out.lengths.assign(d.possible_length().begin(), d.possible_length().end());
    out.source = d.national_number_pattern();
    return out;
  };
  for (const PhoneMetadata& m : collection.metadata()) {
    if (m.id() == kUnknownRegion) continue;
    auto region = std::make_unique<Region>();
    region->id = m.id();
    if (m.has_leading_digits()) region->leading_digits_source = m.leading_digits();
    region->general = desc(m.general_desc());
    for (const PhoneNumberDesc* d : {&m.premium_rate(), &m.toll_free(), &m.shared_cost(), &m.voip(),
                                     &m.personal_number(), &m.pager(), &m.uan(), &m.voicemail(), &m.fixed_line(),
                                     &m.mobile()}) {
      region->types.push_back(desc(*d));
    }
    region->same_mobile_and_fixed_line = m.same_mobile_and_fixed_line_pattern();
    // The first entry of an id wins, as in the library's maps.
    if (region->id == kNonGeographical) {
      non_geographical_.try_emplace(m.country_code(), region.get());
    } else {
      by_id_.try_emplace(region->id, region.get());
    }
    regions_.push_back(std::move(region));
  }
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::set<int> codes;
  util->GetSupportedCallingCodes(&codes);
  for (int code : codes) {
    std::list<std::string> ids;
    util->GetRegionCodesForCountryCallingCode(code, &ids);
    std::vector<const Region*>& list = by_code_[code];
    for (const std::string& id : ids) {
      if (id == kNonGeographical) {
        auto it = non_geographical_.find(code);
        if (it != non_geographical_.end()) list.push_back(it->second);
      } else if (auto it = by_id_.find(id); it != by_id_.end()) {
        list.push_back(it->second);
      }
    }
  }
}

const PhoneValidity::Region& PhoneValidity::Compiled(const Region& region) const {
  absl::call_once(region.compiled, [&region] {
    Region& r = const_cast<Region&>(region);
    RE2::Options options;
    options.set_log_errors(false);
    auto compile = [&](const std::string& source) -> std::unique_ptr<RE2> {
      if (source.empty()) return nullptr;
      return std::make_unique<RE2>(source, options);
    };
    if (!r.leading_digits_source.empty()) r.leading_digits = compile(r.leading_digits_source);
    r.general.pattern = compile(r.general.source);
    for (Desc& d : r.types) d.pattern = compile(d.source);
  });
  return region;
}

bool PhoneValidity::Matches(const Desc& desc, const std::string& national) {
  // PhoneNumberUtil::IsNumberMatchingDesc: the possible lengths first, then a full match of the
  // pattern (RegexBasedMatcher, no prefix match); an empty pattern matches nothing.
  if (!desc.lengths.empty() &&
      std::find(desc.lengths.begin(), desc.lengths.end(), static_cast<int>(national.size())) == desc.lengths.end()) {
    return false;
  }
  if (desc.pattern == nullptr || !desc.pattern->ok()) return false;
  return RE2::FullMatch(national, *desc.pattern);
}

bool PhoneValidity::HasType(const Region& region, const std::string& national) const {
  // PhoneNumberUtil::GetNumberTypeHelper(...) != UNKNOWN.
  const Region& r = Compiled(region);
  if (!Matches(r.general, national)) return false;
  const size_t last = r.types.size() - 1;  // Mobile: only when its pattern is not the fixed line's.
  for (size_t i = 0; i < last; ++i) {
    if (Matches(r.types[i], national)) return true;
  }
  return !r.same_mobile_and_fixed_line && Matches(r.types[last], national);
}

bool PhoneValidity::IsValid(const i18n::phonenumbers::PhoneNumber& number) const {
  // PhoneNumberUtil::GetNationalSignificantNumber.
  std::string national;
  if (number.italian_leading_zero()) national.assign(static_cast<size_t>(std::max(number.number_of_leading_zeros(), 0)), '0');
  national += std::to_string(number.national_number());
  // PhoneNumberUtil::GetRegionCodeForNumber.
  const auto it = by_code_.find(number.country_code());
  if (it == by_code_.end() || it->second.empty()) return false;
  const Region* region = nullptr;
  if (it->second.size() == 1) {
    region = it->second.front();
  } else {
    for (const Region* candidate : it->second) {
      const Region& c = Compiled(*candidate);
      if (!c.leading_digits_source.empty()) {
        if (c.leading_digits != nullptr && c.leading_digits->ok()) {
          re2::StringPiece input(national);
          if (RE2::Consume(&input, *c.leading_digits)) {
            region = candidate;
            break;
          }
        }
      } else if (HasType(c, national)) {
        region = candidate;
        break;
      }
    }
  }
  // PhoneNumberUtil::IsValidNumberForRegion (the region's calling code is the number's by
  // construction).
  return region != nullptr && HasType(*region, national);
}

}  // namespace omnijourney::internal
