// Event ingestion front end: Segment JSON conversion, our JSON form, and validation.
//
// Inputs: a realistic Segment track message (~900 bytes: context with page, campaign, device, traits,
// properties with a product list), repeated. Reported as items (events) per second; bytes/s for parsing.
#include <string>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "common/json.h"
#include "omnijourney/event_json.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"

namespace {

const char kTrack[] = R"({"type":"track","event":"Product Added","userId":"crm-88121",
"anonymousId":"507f191e810c19729de860ea","messageId":"ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
"originalTimestamp":"2026-11-20T10:00:00.000Z","sentAt":"2026-11-20T10:00:05.000Z",
"receivedAt":"2026-11-20T09:59:10.000Z","channel":"browser",
"context":{"ip":"8.8.8.8","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
"locale":"cs-CZ","timezone":"Europe/Prague","traits":{"email":"eva.novakova@example.com"},
"page":{"path":"/sofas/green","url":"https://shop.example.com/sofas/green","title":"Green sofa",
"referrer":"https://www.google.com/"},"campaign":{"name":"autumn","source":"google","medium":"cpc"},
"library":{"name":"analytics.js","version":"2.11.1"}},
"properties":{"cart_id":"skdjsidjsdkdj29j","product_id":"507f1f77bcf86cd799439011","sku":"G-32",
"category":"Sofas","name":"Green Sofa","brand":"Nordic","variant":"green","price":18.99,"quantity":1,
"coupon":"MAYDEALS","position":3,"url":"https://shop.example.com/sofas/green",
"image_url":"https://shop.example.com/img/green.jpg"}})";

void BM_JsonParse(benchmark::State& state) {
  for (auto _ : state) {
    auto v = omnijourney::internal::ParseJson(kTrack);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (sizeof(kTrack) - 1));
}
BENCHMARK(BM_JsonParse);

void BM_SegmentToEvent(benchmark::State& state) {
  omnijourney::SegmentOptions options;
  for (auto _ : state) {
    auto parsed = omnijourney::ParseSegmentJson(kTrack, options);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (sizeof(kTrack) - 1));
}
BENCHMARK(BM_SegmentToEvent);

void BM_ValidateEvent(benchmark::State& state) {
  auto parsed = omnijourney::ParseSegmentJson(kTrack, {});
  const omnijourney::Event event = parsed->events.at(0);
  const omnijourney::ValidationOptions options;
  const absl::Time now = absl::Now();
  for (auto _ : state) {
    absl::Status s = omnijourney::ValidateEvent(event, options, now);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateEvent);

void BM_EventFromJson(benchmark::State& state) {
  auto parsed = omnijourney::ParseSegmentJson(kTrack, {});
  const std::string json = omnijourney::EventToJson(parsed->events.at(0));
  for (auto _ : state) {
    auto e = omnijourney::EventFromJson(json);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * json.size());
}
BENCHMARK(BM_EventFromJson);

}  // namespace

BENCHMARK_MAIN();
