#include "problems/cigarette_smokers/cigarette_smokers.h"

#include <array>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

enum Ingredient { kTobacco = 0, kPaper = 1, kMatch = 2 };
constexpr int kRounds = 3;

// The agent (not ours to change): each round it waits until the last cigarette is smoked, picks
// a pair at random and puts both ingredients of the pair on the table.
struct Agent {
  lab::Semaphore smoked{1};
  std::array<lab::Semaphore, 3> on_table{lab::Semaphore(0), lab::Semaphore(0), lab::Semaphore(0)};
  lab::Shared<bool> done{false};

  void Run() {
    for (int round = 0; round < kRounds; ++round) {
      smoked.acquire();
      const int missing = static_cast<int>(lab::random(3));  // the ingredient NOT put down
      for (int i = 0; i < 3; ++i) {
        if (i != missing) on_table[i].release();
      }
    }
    smoked.acquire();  // the last cigarette
    done.write(true);
  }
};

// ---- naive: a smoker takes its two missing ingredients one after the other ----
void Naive() {
  Agent agent;
  lab::Shared<int> cigarettes{0};
  lab::Thread agent_thread([&] { agent.Run(); });
  std::vector<lab::Thread> smokers;
  for (int has = 0; has < 3; ++has) {
    smokers.push_back(lab::Thread([&, has] {
      const int first = (has + 1) % 3, second = (has + 2) % 3;
      for (;;) {
        agent.on_table[first].acquire();   // BUG: may take an ingredient meant for another smoker
        agent.on_table[second].acquire();
        if (agent.done.read()) return;
        cigarettes.write(cigarettes.read() + 1);
        agent.smoked.release();
      }
    }));
  }
  agent_thread.join();
  // Closing: enough of every ingredient for each smoker to wake and see `done`.
  for (int i = 0; i < 3; ++i) {
    agent.on_table[i].release();
    agent.on_table[i].release();
  }
  for (lab::Thread& s : smokers) s.join();
  LAB_ASSERT_MSG(cigarettes.read() == kRounds, "cigarettes smoked != rounds");
}

// ---- pushers: one helper per ingredient works out who can smoke ----
void Pushers() {
  Agent agent;
  lab::Semaphore mutex(1);  // guards on the table flags
  std::array<lab::Shared<bool>, 3> lying{};  // what the pushers have seen on the table
  std::array<lab::Semaphore, 3> smoker_go{lab::Semaphore(0), lab::Semaphore(0), lab::Semaphore(0)};
  lab::Shared<int> cigarettes{0};
  lab::Thread agent_thread([&] { agent.Run(); });
  std::vector<lab::Thread> pushers;
  for (int ing = 0; ing < 3; ++ing) {
    pushers.push_back(lab::Thread([&, ing] {
      for (;;) {
        agent.on_table[ing].acquire();
        if (agent.done.read()) return;
        mutex.acquire();
        // If one of the other two is already there, wake the smoker holding the third.
        const int a = (ing + 1) % 3, b = (ing + 2) % 3;
        if (lying[a].read()) {
          lying[a].write(false);
          smoker_go[b].release();
        } else if (lying[b].read()) {
          lying[b].write(false);
          smoker_go[a].release();
        } else {
          lying[ing].write(true);
        }
        mutex.release();
      }
    }));
  }
  std::vector<lab::Thread> smokers;
  for (int has = 0; has < 3; ++has) {
    smokers.push_back(lab::Thread([&, has] {
      for (;;) {
        smoker_go[has].acquire();
        if (agent.done.read()) return;
        cigarettes.write(cigarettes.read() + 1);
        agent.smoked.release();
      }
    }));
  }
  agent_thread.join();
  for (int i = 0; i < 3; ++i) agent.on_table[i].release();  // closing: wake each pusher once
  for (lab::Thread& p : pushers) p.join();
  for (int i = 0; i < 3; ++i) smoker_go[i].release();       // and each smoker
  for (lab::Thread& s : smokers) s.join();
  LAB_ASSERT_MSG(cigarettes.read() == kRounds, "cigarettes smoked != rounds");
}

}  // namespace

void RegisterCigaretteSmokers(Catalogue& catalogue) {
  const std::string doc = "docs/problems/cigarette_smokers.md";
  catalogue.Add({
      .name = "cigarette_smokers/naive",
      .expected = "deadlock",
      .description = "each smoker waits for its two missing ingredients, one after the other",
      .explanation =
          "The agent puts down tobacco and paper. The smoker with matches takes the tobacco, the "
          "smoker with tobacco takes the paper; each now waits for an ingredient that will never "
          "come, and the agent waits for a cigarette. Fix: let helpers (pushers) look at both "
          "ingredients and wake exactly the smoker who can use them.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 200, .depth = 3},
      .body = Naive,
  });
  catalogue.Add({
      .name = "cigarette_smokers/pushers",
      .expected = "clean",
      .description = "three pushers record what is on the table and wake the right smoker",
      .explanation =
          "Each ingredient is taken by its own pusher, who under a mutex pairs it with what is "
          "already lying there; only the smoker who holds the third ingredient is woken, so "
          "nobody grabs half a pair.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = Pushers,
  });
}

}  // namespace problems
