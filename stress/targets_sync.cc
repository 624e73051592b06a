#include "stress/targets.h"
namespace stress {
void AddSyncTargets(std::vector<Target>&) {}
}
