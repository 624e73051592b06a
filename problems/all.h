// problems/all.h: the whole catalogue, registered explicitly (no static initialisers).
#pragma once

#include "problems/catalogue.h"

namespace problems {

// Registers every problem's cases into `catalogue`, in teaching order.
void RegisterAll(Catalogue& catalogue);
// A catalogue holding every case.
Catalogue FullCatalogue();

}  // namespace problems
