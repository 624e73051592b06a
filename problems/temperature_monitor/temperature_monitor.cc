#include "problems/temperature_monitor/temperature_monitor.h"

#include <array>
#include <vector>

#include "lab/sync/sync.h"
#include "problems/model/mailbox.h"

namespace problems {
namespace {

constexpr int kSensors = 3;
constexpr int kRounds = 2;
constexpr std::array<int, kSensors> kInitial = {100, 40, 10};

using model::Mailbox;
using model::Message;

void Run(bool shared_replies) {
  Mailbox<kSensors> to_monitor;
  std::array<Mailbox<1>, kSensors> reply_boxes;
  Mailbox<kSensors> shared_reply_box;
  auto send_reply = [&](int sensor, int value) {
    if (shared_replies) {
      shared_reply_box.Send({sensor, value});
    } else {
      reply_boxes[sensor].Send({sensor, value});
    }
  };
  auto receive_reply = [&](int sensor) {
    return shared_replies ? shared_reply_box.Receive() : reply_boxes[sensor].Receive();
  };

  lab::Thread monitor([&] {
    int central = 50;
    for (int round = 0; round < kRounds; ++round) {
      int sum = 0;
      std::array<int, kSensors> from{};
      for (int k = 0; k < kSensors; ++k) {
        const Message m = to_monitor.Receive();
        sum += m.value;
        from[k] = m.from;
      }
      central = (2 * central + sum) / (kSensors + 2);
      for (int k = 0; k < kSensors; ++k) send_reply(from[k], central);
    }
  });
  std::vector<lab::Thread> sensors;
  for (int s = 0; s < kSensors; ++s) {
    sensors.push_back(lab::Thread([&, s] {
      int temperature = kInitial[s];
      for (int round = 0; round < kRounds; ++round) {
        to_monitor.Send({s, temperature});
        const Message reply = receive_reply(s);
        LAB_ASSERT_MSG(reply.from == s, "a sensor took the reply addressed to another sensor");
        temperature = (3 * temperature + 2 * reply.value) / 5;
      }
    }));
  }
  for (lab::Thread& s : sensors) s.join();
  monitor.join();
}

}  // namespace

void RegisterTemperatureMonitor(Catalogue& catalogue) {
  const std::string doc = "docs/problems/temperature_monitor.md";
  const Exploration budget = {.strategy = "pct", .iterations = 150, .depth = 3};
  catalogue.Add({
      .name = "temperature_monitor/reply_per_sensor",
      .expected = "clean",
      .description = "sensors report to one monitor mailbox; each gets replies on its own mailbox",
      .explanation =
          "A reply can only reach the sensor it is addressed to, whatever order the reports and "
          "replies interleave in.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = [] { Run(/*shared_replies=*/false); },
  });
  catalogue.Add({
      .name = "temperature_monitor/any_reply",
      .expected = "assertion-failure",
      .description = "replies share one mailbox; a sensor takes whichever reply comes first",
      .explanation =
          "Replies for all sensors sit in one queue and a sensor receives the first one, not its "
          "own (msgrcv with msgtyp 0). A sensor that is faster than the addressee takes its "
          "reply. Fix: one reply queue per sensor, or receive with msgtyp = the sensor's id.",
      .doc = doc,
      .exploration = budget,
      .body = [] { Run(/*shared_replies=*/true); },
  });
}

}  // namespace problems
