#include "stress/targets.h"
namespace stress {
void AddIoTargets(std::vector<Target>&) {}
}
