// problems/temperature_monitor: from the course's message-queue exercise. kSensors external
// sensors report their temperature to one central monitor; each round the monitor computes a new
// central temperature from all reports and sends it back to every sensor, which adjusts its own
// temperature toward it. The mailboxes are modelled (problems/model/mailbox.h).
//
//   reply_per_sensor  correct: each sensor receives on its own mailbox (or, with one System V
//                     queue, with msgtyp = its own id)
//   any_reply         assertion-failure: replies share one mailbox and sensors take whichever
//                     comes first (msgrcv with msgtyp 0), so a sensor can take another's reply
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterTemperatureMonitor(Catalogue& catalogue);
}  // namespace problems
