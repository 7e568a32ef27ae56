// Synthetic population: see include/omnijourney/synth.h.
//
// A discrete-event simulation: one task per customer step (start shopping, a support contact, its
// outcome) in a heap by time; the events a step emits wait in a second heap by delivery time. Next()
// runs every task due up to the earliest pending delivery, so a contact is always handed out (and
// ReportHistory can be called) before its outcome is decided. Each customer draws from a random
// stream of their own (splitmix64 of seed and customer), so nothing depends on the standard
// library's distributions and the events are the same on every machine.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <queue>
#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "omnijourney/synth.h"

namespace omnijourney::synth {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : s_(seed) {}
  uint64_t Next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    return Mix(s_);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }
  int64_t Int(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1)); }
  absl::Duration Between(absl::Duration a, absl::Duration b) { return a + (b - a) * Uniform(); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& v) {
    return v[Next() % N];
  }

 private:
  uint64_t s_;
};

constexpr std::array<absl::string_view, 5> kCategories = {"modems", "phones", "tv", "sofas", "laptops"};
constexpr std::array<absl::string_view, 4> kCampaigns = {"search-brand", "search-generic", "retargeting", "social"};
constexpr std::array<absl::string_view, 4> kTopics = {"not working", "delivery delayed", "wrong invoice", "return"};
constexpr char kCallCentreNumber[] = "+420 800 100 200";

struct Customer {
  Rng rng;
  bool known = false, app = false, store = false;
  int32_t next_event = 0;
  // Support issue.
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  int32_t contacts = 0;
  bool history = true;
  bool complained = false;
  uint8_t topic = 0;
  uint8_t category = 0;
  int32_t conversation = 0;  // The support conversation's number (its id is sup-<customer>-<number>).
  double waited = 0;         // Seconds the last contact waited (0: not queued).
};

enum class Step : uint8_t { kStart, kContact, kOutcome };

struct Task {
  absl::Time time;
  uint64_t seq;
  int64_t customer;
  Step step;
  bool operator>(const Task& o) const { return std::tie(time, seq) > std::tie(o.time, o.seq); }
};

struct Delivery {
  absl::Time time;
  uint64_t seq;
  GeneratedEvent event;
};
struct LaterDelivery {
  bool operator()(const Delivery& a, const Delivery& b) const { return std::tie(a.time, a.seq) > std::tie(b.time, b.seq); }
};

absl::Status CheckRate(absl::string_view name, double v) {
  if (!(v >= 0 && v <= 1)) return absl::InvalidArgumentError(absl::StrCat(name, ": must be in [0, 1], got ", v));
  return absl::OkStatus();
}

class PopulationImpl final : public Population {
 public:
  explicit PopulationImpl(const PopulationOptions& o) : o_(o), customers_(static_cast<size_t>(o.customers)) {
    for (int64_t c = 0; c < o.customers; ++c) {
      Customer& k = customers_[static_cast<size_t>(c)];
      k.rng = Rng(Mix(o.seed * 0x100000001b3ULL ^ Mix(static_cast<uint64_t>(c))));
      k.known = k.rng.Chance(o.known_rate);
      k.app = k.rng.Chance(o.app_rate);
      k.store = k.rng.Chance(o.store_rate);
      k.history = o.assume_history;
      Schedule(o.start + o.span * k.rng.Uniform(), c, Step::kStart);
    }
  }

  bool Next(GeneratedEvent* out) override {
    while (!tasks_.empty() && (deliveries_.empty() || tasks_.top().time <= deliveries_.top().time)) {
      const Task t = tasks_.top();
      tasks_.pop();
      Run(t);
    }
    if (deliveries_.empty()) return false;
    // priority_queue::top is const: move out through a const_cast, then pop.
    *out = std::move(const_cast<Delivery&>(deliveries_.top()).event);
    deliveries_.pop();
    last_contact_ = out->contact ? out->customer : -1;
    ++delivered_;
    return true;
  }

  void ReportHistory(bool available) override {
    if (last_contact_ >= 0) customers_[static_cast<size_t>(last_contact_)].history = available;
  }

  int64_t delivered() const override { return delivered_; }
  int64_t issues() const override { return issues_; }
  int64_t issues_resolved() const override { return resolved_; }

 private:
  // Identifiers, derived from the customer number (nothing to store per customer).
  uint64_t H(int64_t c, uint64_t salt) const { return Mix(Mix(o_.seed ^ (salt << 56)) ^ static_cast<uint64_t>(c)); }
  std::string Cookie(int64_t c) const { return absl::StrFormat("ck-%016x", H(c, 1)); }
  std::string Device(int64_t c) const {
    // A shared household tablet: customers 2k and 2k+1 when the pair was drawn to share.
    const int64_t pair = c - c % 2;
    if (pair + 1 < o_.customers && static_cast<double>(H(pair, 3) >> 11) * 0x1.0p-53 < o_.shared_device_rate) {
      return absl::StrFormat("tablet-%012x", H(pair, 4) & 0xffffffffffffULL);
    }
    return absl::StrFormat("dev-%012x", H(c, 2) & 0xffffffffffffULL);
  }
  std::string Email(int64_t c, Rng& rng) const {
    std::string local = absl::StrFormat("c%d.%04x", c, H(c, 5) & 0xffff);
    // Spelled differently on different systems; the normaliser makes them one match key.
    if (rng.Chance(0.2)) return absl::StrCat(" ", local, "@EXAMPLE.com");
    return absl::StrCat(local, "@example.com");
  }
  std::string Phone(int64_t c, Rng& rng) const {
    const int64_t n = 70000000 + (c % 30000000);
    const std::string digits = absl::StrFormat("%08d", n);
    if (rng.Chance(0.5)) return absl::StrCat("+420", "7", digits.substr(0, 8));
    return absl::StrCat("+420 7", digits.substr(0, 2), " ", digits.substr(2, 3), " ", digits.substr(5, 3));
  }
  std::string Loyalty(int64_t c) const { return absl::StrFormat("L%09d", 100000000 + c); }
  std::string Crm(int64_t c) const { return absl::StrCat("CRM-", c); }
  std::string Facebook(int64_t c) const { return absl::StrFormat("fb.%08x", H(c, 6) & 0xffffffff); }

  void Schedule(absl::Time t, int64_t c, Step step) { tasks_.push({t, seq_++, c, step}); }

  Event Make(int64_t c, absl::Time t, absl::string_view source, v1::EventKind kind, absl::string_view name,
             v1::Channel channel, v1::Direction direction) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Event e;
    e.set_tenant(o_.tenant);
    e.set_source(std::string(source));
    e.set_event_id(absl::StrCat(source, "-", c, "-", k.next_event++));
    e.set_kind(kind);
    if (!name.empty()) e.set_name(std::string(name));
    e.set_channel(channel);
    e.set_direction(direction);
    *e.mutable_occurred_at() = ToTimestamp(t);
    return e;
  }
  static void Id(Event& e, absl::string_view type, std::string value) {
    auto* id = e.add_identifiers();
    id->set_type(std::string(type));
    id->set_value(std::move(value));
  }
  static void Prop(Event& e, absl::string_view key, absl::string_view value) {
    (*e.mutable_properties()->mutable_fields())[std::string(key)].set_string_value(std::string(value));
  }
  static void Number(Event& e, absl::string_view key, double value) {
    (*e.mutable_properties()->mutable_fields())[std::string(key)].set_number_value(value);
  }
  static void Flag(Event& e, absl::string_view key, bool value) {
    (*e.mutable_properties()->mutable_fields())[std::string(key)].set_bool_value(value);
  }

  // Queues `e` for delivery: maybe late (unless `on_time`), maybe twice.
  void Emit(int64_t c, Event e, bool on_time = false, bool contact = false) {
    Customer& k = customers_[static_cast<size_t>(c)];
    const absl::Time t = FromTimestamp(e.occurred_at());
    absl::Time at = t;
    bool late = false;
    if (!on_time && k.rng.Chance(o_.late_rate)) {
      at = t + k.rng.Between(absl::Seconds(1), o_.max_lateness);
      late = true;
    }
    const bool twice = k.rng.Chance(o_.duplicate_rate);
    if (twice) {
      GeneratedEvent copy{e, c, true, false, false};
      deliveries_.push({at + k.rng.Between(absl::Seconds(1), absl::Hours(1)), seq_++, std::move(copy)});
    }
    deliveries_.push({at, seq_++, GeneratedEvent{std::move(e), c, false, late, contact}});
  }

  // Adds a junk value with junk_rate to an event that carries an email or phone.
  void MaybeJunk(int64_t c, Event& e) {
    Customer& k = customers_[static_cast<size_t>(c)];
    if (!k.rng.Chance(o_.junk_rate)) return;
    if (k.rng.Chance(0.5)) {
      Id(e, "email", "test@test.com");
    } else {
      Id(e, "phone", "null");
    }
  }

  void Run(const Task& t) {
    switch (t.step) {
      case Step::kStart:
        Shop(t.customer, t.time);
        break;
      case Step::kContact:
        Contact(t.customer, t.time);
        break;
      case Step::kOutcome:
        Outcome(t.customer, t.time);
        break;
    }
  }

  void Shop(int64_t c, absl::Time t) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Rng& r = k.rng;
    k.category = static_cast<uint8_t>(r.Next() % kCategories.size());
    const absl::string_view category = kCategories[k.category];
    if (r.Chance(o_.ad_rate)) {
      Event e = Make(c, t, "ads", v1::EVENT_KIND_TRACK, "Ad Clicked", v1::CHANNEL_ADS, v1::DIRECTION_INBOUND);
      Id(e, "cookie", Cookie(c));
      Prop(e, "campaign", r.Pick(kCampaigns));
      Prop(e, "category", category);
      Emit(c, std::move(e));
      t += r.Between(absl::Seconds(5), absl::Minutes(2));
    }
    const bool in_app = k.app && r.Chance(0.5);
    const int64_t views = r.Int(1, 4);
    for (int64_t i = 0; i < views; ++i) {
      Event e = in_app ? Make(c, t, "app", v1::EVENT_KIND_SCREEN, "Product", v1::CHANNEL_APP, v1::DIRECTION_UNSPECIFIED)
                       : Make(c, t, "web", v1::EVENT_KIND_PAGE, "Product", v1::CHANNEL_WEB, v1::DIRECTION_UNSPECIFIED);
      Id(e, in_app ? "device_id" : "cookie", in_app ? Device(c) : Cookie(c));
      if (in_app && k.known && i == 0) Id(e, "crm_id", Crm(c));  // Logged in.
      Prop(e, "category", category);
      Prop(e, "product", absl::StrCat(category, "-", r.Int(1, 20)));
      Emit(c, std::move(e));
      t += r.Between(absl::Seconds(20), absl::Minutes(10));
    }
    if (k.known) {
      Event e = Make(c, t, "web", v1::EVENT_KIND_IDENTIFY, "Signed Up", v1::CHANNEL_WEB, v1::DIRECTION_INBOUND);
      Id(e, "cookie", Cookie(c));
      Id(e, "email", Email(c, r));
      Id(e, "phone", Phone(c, r));
      Id(e, "crm_id", Crm(c));
      if (k.store) Id(e, "loyalty_card", Loyalty(c));
      MaybeJunk(c, e);
      Emit(c, std::move(e));
      t += r.Between(absl::Minutes(1), absl::Minutes(5));
    }
    if (r.Chance(o_.sales_chat_rate)) {
      const std::string conv = absl::StrCat("chat-", c, "-", k.next_event);
      Event q = Make(c, t, "livechat", v1::EVENT_KIND_MESSAGE, "Message", v1::CHANNEL_CHAT, v1::DIRECTION_INBOUND);
      Id(q, "cookie", Cookie(c));
      if (r.Chance(0.5)) Id(q, "email", Email(c, r));  // Given in the chat.
      q.set_conversation_id(conv);
      q.set_text(absl::StrCat("Do you have the ", category, " in stock?"));
      Prop(q, "category", category);
      Emit(c, std::move(q));
      t += r.Between(absl::Seconds(30), absl::Minutes(3));
      Event a = Make(c, t, "livechat", v1::EVENT_KIND_MESSAGE, "Message", v1::CHANNEL_CHAT, v1::DIRECTION_OUTBOUND);
      Id(a, "cookie", Cookie(c));
      a.set_conversation_id(conv);
      a.set_agent_id(absl::StrCat("agent-", r.Int(1, 40)));
      a.set_text("Yes, it ships tomorrow.");
      Emit(c, std::move(a));
      t += r.Between(absl::Minutes(1), absl::Minutes(20));
    }
    if (r.Chance(o_.buy_rate)) {
      t += r.Between(absl::Minutes(5), absl::Hours(72));
      const bool in_store = k.store && r.Chance(0.5);
      Event e = in_store ? Make(c, t, "pos", v1::EVENT_KIND_ORDER, "Order Completed", v1::CHANNEL_STORE, v1::DIRECTION_INBOUND)
                         : Make(c, t, "web", v1::EVENT_KIND_ORDER, "Order Completed", v1::CHANNEL_WEB, v1::DIRECTION_INBOUND);
      if (in_store) {
        Id(e, "loyalty_card", Loyalty(c));
        // Staff type the call-centre number when the customer gives none.
        if (r.Chance(o_.junk_rate * 5)) Id(e, "phone", kCallCentreNumber);
        else if (k.known) Id(e, "phone", Phone(c, r));
      } else {
        Id(e, "cookie", Cookie(c));
        if (k.known) Id(e, "email", Email(c, r));
      }
      MaybeJunk(c, e);
      Prop(e, "order_id", absl::StrCat("O-", c, "-", k.next_event));
      Prop(e, "category", category);
      e.mutable_value()->set_units(r.Int(20, 2000));
      e.mutable_value()->set_currency("EUR");
      Emit(c, std::move(e));
      if (r.Chance(o_.nps_rate)) {
        Event f = Make(c, t + r.Between(absl::Hours(24), absl::Hours(72)), "survey", v1::EVENT_KIND_FEEDBACK,
                       "NPS Survey Answered", v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND);
        if (in_store) Id(f, "loyalty_card", Loyalty(c));
        else Id(f, "cookie", Cookie(c));
        Prop(f, "survey", "nps");
        const double u = r.Uniform();
        Number(f, "score", u < 0.45 ? r.Int(9, 10) : u < 0.75 ? r.Int(7, 8) : r.Int(0, 6));
        Emit(c, std::move(f));
      }
    }
    if (r.Chance(o_.support_rate)) {
      ++issues_;
      k.topic = static_cast<uint8_t>(r.Next() % kTopics.size());
      k.channel = PreferredChannel(k);
      k.contacts = 0;
      Schedule(t + r.Between(absl::Hours(12), absl::Hours(24 * 14)), c, Step::kContact);
    }
  }

  static v1::Channel PreferredChannel(Customer& k) {
    const double u = k.rng.Uniform();
    if (u < 0.35) return v1::CHANNEL_VOICE;
    if (u < 0.55) return v1::CHANNEL_EMAIL;
    if (u < 0.75) return v1::CHANNEL_CHAT;
    if (u < 0.85) return v1::CHANNEL_WHATSAPP;
    if (u < 0.92) return v1::CHANNEL_SOCIAL;
    return k.store ? v1::CHANNEL_STORE : v1::CHANNEL_VOICE;
  }

  // The identifiers a contact on `channel` carries.
  void ContactIds(int64_t c, v1::Channel channel, Event& e) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Rng& r = k.rng;
    switch (channel) {
      case v1::CHANNEL_VOICE:
      case v1::CHANNEL_WHATSAPP:
        Id(e, "phone", Phone(c, r));
        break;
      case v1::CHANNEL_EMAIL:
        Id(e, "email", Email(c, r));
        break;
      case v1::CHANNEL_CHAT:
        Id(e, "cookie", Cookie(c));
        if (r.Chance(0.5)) Id(e, "email", Email(c, r));
        break;
      case v1::CHANNEL_SOCIAL:
        Id(e, "facebook", Facebook(c));
        if (r.Chance(0.3)) Id(e, "email", Email(c, r));
        break;
      default:  // Store.
        if (k.store) Id(e, "loyalty_card", Loyalty(c));
        else Id(e, "phone", Phone(c, r));
        break;
    }
  }

  static absl::string_view SourceOf(v1::Channel channel) {
    switch (channel) {
      case v1::CHANNEL_VOICE:
        return "pbx";
      case v1::CHANNEL_EMAIL:
        return "mail";
      case v1::CHANNEL_CHAT:
        return "livechat";
      case v1::CHANNEL_WHATSAPP:
        return "whatsapp";
      case v1::CHANNEL_SOCIAL:
        return "social";
      default:
        return "pos";
    }
  }

  void Contact(int64_t c, absl::Time t) {
    Customer& k = customers_[static_cast<size_t>(c)];
    const v1::EventKind kind = k.channel == v1::CHANNEL_VOICE   ? v1::EVENT_KIND_CALL
                               : k.channel == v1::CHANNEL_STORE ? v1::EVENT_KIND_VISIT
                                                                : v1::EVENT_KIND_MESSAGE;
    Event e = Make(c, t, SourceOf(k.channel), kind, "Support Request", k.channel, v1::DIRECTION_INBOUND);
    ContactIds(c, k.channel, e);
    MaybeJunk(c, e);
    k.conversation = k.next_event;
    e.set_conversation_id(absl::StrCat("sup-", c, "-", k.conversation));
    const absl::string_view topic = kTopics[k.topic];
    e.set_text(absl::StrCat("My ", kCategories[k.category], " order: ", topic));
    Prop(e, "topic", topic);
    Prop(e, "category", kCategories[k.category]);
    ++k.contacts;
    k.history = o_.assume_history;
    Emit(c, std::move(e), /*on_time=*/true, /*contact=*/true);
    Schedule(t + k.rng.Between(absl::Minutes(5), absl::Minutes(30)), c, Step::kOutcome);
  }

  static absl::string_view TeamOf(v1::Channel channel, int64_t agent) {
    switch (channel) {
      case v1::CHANNEL_VOICE:
        return agent % 2 == 0 ? "voice-1" : "voice-2";
      case v1::CHANNEL_STORE:
        return "store";
      default:
        return "digital";
    }
  }

  // The end of the support conversation: agent, team, wait and handle time. False when the
  // customer abandoned the queue.
  bool EndContact(int64_t c, absl::Time t) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Rng& r = k.rng;
    const bool follow_up = k.contacts > 1;
    const bool queued = k.channel == v1::CHANNEL_VOICE || k.channel == v1::CHANNEL_CHAT;
    double wait = 0;
    if (queued) {
      // Skewed towards short waits: the square of a uniform draw.
      const double u = r.Uniform();
      wait = (k.channel == v1::CHANNEL_VOICE ? 150.0 : 90.0) * u * u + 3;
      if (k.history && follow_up) wait *= o_.history_wait_factor;
    }
    k.waited = wait;
    Event e = Make(c, t, SourceOf(k.channel), v1::EVENT_KIND_CONVERSATION, "Contact Ended", k.channel,
                   v1::DIRECTION_INTERNAL);
    ContactIds(c, k.channel, e);
    e.set_conversation_id(absl::StrCat("sup-", c, "-", k.conversation));
    Prop(e, "status", "closed");
    if (queued) Number(e, "wait_seconds", std::round(wait));
    const double patience = r.Between(absl::Seconds(45), absl::Seconds(240)) / absl::Seconds(1);
    if (queued && o_.abandonment && wait > patience) {
      Flag(e, "abandoned", true);
      Emit(c, std::move(e), /*on_time=*/true);
      return false;
    }
    const int64_t agent = r.Int(1, o_.agents_per_team * (k.channel == v1::CHANNEL_VOICE ? 2 : 1));
    const absl::string_view team = TeamOf(k.channel, agent);
    e.set_agent_id(absl::StrFormat("agent-%s-%02d", team, agent));
    Prop(e, "team", team);
    double handle = 0;
    switch (k.channel) {
      case v1::CHANNEL_VOICE:
        handle = r.Between(absl::Seconds(180), absl::Seconds(540)) / absl::Seconds(1);
        break;
      case v1::CHANNEL_STORE:
        handle = r.Between(absl::Seconds(300), absl::Seconds(900)) / absl::Seconds(1);
        break;
      default:
        handle = r.Between(absl::Seconds(120), absl::Seconds(600)) / absl::Seconds(1);
        break;
    }
    if (follow_up && !k.history) handle *= o_.no_history_handle_factor;
    Number(e, "handle_seconds", std::round(handle));
    Emit(c, std::move(e), /*on_time=*/true);
    return true;
  }

  // A CSAT (or CES) answer about the contact just ended.
  void Survey(int64_t c, absl::Time t, bool resolved) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Rng& r = k.rng;
    if (!r.Chance(o_.feedback_rate)) return;
    const bool ces = r.Chance(0.25);
    const v1::Channel channel = k.channel == v1::CHANNEL_VOICE ? v1::CHANNEL_SMS : v1::CHANNEL_EMAIL;
    Event f = Make(c, t + r.Between(absl::Minutes(5), absl::Hours(6)), "survey", v1::EVENT_KIND_FEEDBACK,
                   "Survey Answered", channel, v1::DIRECTION_INBOUND);
    ContactIds(c, k.channel == v1::CHANNEL_VOICE ? v1::CHANNEL_WHATSAPP : k.channel, f);  // The phone for SMS.
    f.set_conversation_id(absl::StrCat("sup-", c, "-", k.conversation));
    // Satisfaction on a 0-1 scale: resolution matters most; telling the story again and long waits
    // hurt.
    double x = resolved ? 0.8 : 0.35;
    if (k.contacts > 1 && !k.history) x -= 0.2;
    if (k.contacts > 2) x -= 0.1;
    if (k.waited > 60) x -= 0.1;
    x += (r.Uniform() - 0.5) * 0.4;
    x = std::clamp(x, 0.0, 1.0);
    Prop(f, "survey", ces ? "ces" : "csat");
    Number(f, "score", ces ? 1 + std::round(x * 6) : 1 + std::round(x * 4));
    Emit(c, std::move(f));
  }

  void Outcome(int64_t c, absl::Time t) {
    Customer& k = customers_[static_cast<size_t>(c)];
    Rng& r = k.rng;
    if (!EndContact(c, t)) {
      // Tries again on the same channel, unless that was the last try.
      if (k.contacts < o_.max_contacts) Schedule(t + r.Between(absl::Minutes(10), absl::Hours(6)), c, Step::kContact);
      return;
    }
    const double p = k.contacts == 1 ? o_.resolve_first
                                     : (k.history ? o_.resolve_with_history : o_.resolve_without_history);
    const bool resolved = r.Chance(p);
    Survey(c, t, resolved);
    if (!resolved && k.contacts >= 3 && !k.complained && r.Chance(o_.complaint_rate)) {
      k.complained = true;
      Event e = Make(c, t + r.Between(absl::Hours(1), absl::Hours(24)), "mail", v1::EVENT_KIND_TICKET,
                     "Complaint Filed", v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND);
      ContactIds(c, v1::CHANNEL_EMAIL, e);
      Prop(e, "category", "complaint");
      Prop(e, "topic", kTopics[k.topic]);
      e.set_text(absl::StrCat("Third time about my ", kCategories[k.category], ": ", kTopics[k.topic]));
      Emit(c, std::move(e));
    }
    if (resolved) {
      ++resolved_;
      Event e = Make(c, t, SourceOf(k.channel), v1::EVENT_KIND_TICKET, "Ticket Resolved", k.channel,
                     v1::DIRECTION_INTERNAL);
      ContactIds(c, k.channel, e);
      Prop(e, "status", "resolved");
      Prop(e, "topic", kTopics[k.topic]);
      Emit(c, std::move(e), /*on_time=*/true);
      return;
    }
    if (k.contacts >= o_.max_contacts) return;  // Gives up.
    if (r.Chance(o_.switch_channel)) {
      const v1::Channel before = k.channel;
      for (int i = 0; i < 4 && k.channel == before; ++i) k.channel = PreferredChannel(k);
    }
    Schedule(t + r.Between(absl::Hours(2), absl::Hours(72)), c, Step::kContact);
  }

  PopulationOptions o_;
  std::vector<Customer> customers_;
  std::priority_queue<Task, std::vector<Task>, std::greater<Task>> tasks_;
  std::priority_queue<Delivery, std::vector<Delivery>, LaterDelivery> deliveries_;
  uint64_t seq_ = 0;
  int64_t last_contact_ = -1;
  int64_t delivered_ = 0;
  int64_t issues_ = 0;
  int64_t resolved_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Population>> Population::Create(const PopulationOptions& o) {
  if (o.customers < 0) return absl::InvalidArgumentError(absl::StrCat("customers: must be >= 0, got ", o.customers));
  if (o.customers > 100'000'000) {
    return absl::InvalidArgumentError(absl::StrCat("customers: at most 100000000, got ", o.customers));
  }
  if (o.span <= absl::ZeroDuration()) return absl::InvalidArgumentError("span: must be positive");
  if (o.max_lateness < absl::ZeroDuration()) return absl::InvalidArgumentError("max_lateness: must not be negative");
  if (o.agents_per_team < 1) {
    return absl::InvalidArgumentError(absl::StrCat("agents_per_team: must be >= 1, got ", o.agents_per_team));
  }
  if (!(o.no_history_handle_factor >= 1 && o.no_history_handle_factor <= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat("no_history_handle_factor: must be in [1, 10], got ", o.no_history_handle_factor));
  }
  if (o.max_contacts < 1) return absl::InvalidArgumentError(absl::StrCat("max_contacts: must be >= 1, got ", o.max_contacts));
  const std::pair<absl::string_view, double> rates[] = {
      {"known_rate", o.known_rate},
      {"app_rate", o.app_rate},
      {"store_rate", o.store_rate},
      {"ad_rate", o.ad_rate},
      {"sales_chat_rate", o.sales_chat_rate},
      {"buy_rate", o.buy_rate},
      {"support_rate", o.support_rate},
      {"shared_device_rate", o.shared_device_rate},
      {"junk_rate", o.junk_rate},
      {"late_rate", o.late_rate},
      {"duplicate_rate", o.duplicate_rate},
      {"resolve_first", o.resolve_first},
      {"resolve_with_history", o.resolve_with_history},
      {"resolve_without_history", o.resolve_without_history},
      {"switch_channel", o.switch_channel},
      {"history_wait_factor", o.history_wait_factor},
      {"feedback_rate", o.feedback_rate},
      {"nps_rate", o.nps_rate},
      {"complaint_rate", o.complaint_rate},
  };
  for (const auto& [name, v] : rates) RETURN_IF_ERROR(CheckRate(name, v));
  return std::unique_ptr<Population>(new PopulationImpl(o));
}

absl::StatusOr<std::vector<GeneratedEvent>> Generate(const PopulationOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Population> p, Population::Create(options));
  std::vector<GeneratedEvent> out;
  GeneratedEvent g;
  while (p->Next(&g)) out.push_back(std::move(g));
  return out;
}

}  // namespace omnijourney::synth
