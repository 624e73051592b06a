#include "problems/all.h"

#include "problems/barrier/barrier.h"
#include "problems/cigarette_smokers/cigarette_smokers.h"
#include "problems/dining_philosophers/dining_philosophers.h"
#include "problems/echo/echo.h"
#include "problems/lock_file/lock_file.h"
#include "problems/master_worker/master_worker.h"
#include "problems/pipe/pipe.h"
#include "problems/producer_consumer/producer_consumer.h"
#include "problems/readers_writers/readers_writers.h"
#include "problems/sleeping_barber/sleeping_barber.h"
#include "problems/temperature_monitor/temperature_monitor.h"

namespace problems {

void RegisterAll(Catalogue& catalogue) {
  RegisterProducerConsumer(catalogue);
  RegisterReadersWriters(catalogue);
  RegisterDiningPhilosophers(catalogue);
  RegisterSleepingBarber(catalogue);
  RegisterCigaretteSmokers(catalogue);
  RegisterBarrier(catalogue);
  RegisterMasterWorker(catalogue);
  RegisterLockFile(catalogue);
  RegisterPipe(catalogue);
  RegisterTemperatureMonitor(catalogue);
  RegisterEcho(catalogue);
}

Catalogue FullCatalogue() {
  Catalogue catalogue;
  RegisterAll(catalogue);
  return catalogue;
}

}  // namespace problems
