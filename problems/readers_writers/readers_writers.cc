#include "problems/readers_writers/readers_writers.h"

#include <chrono>
#include <functional>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

using std::chrono::microseconds;

constexpr int kRounds = 12;
constexpr microseconds kAccessTime{3000};  // reading or writing takes 3 ms
constexpr microseconds kThinkTime{1000};   // then 1 ms elsewhere
constexpr microseconds kStagger{2000};     // the second reader (writer) starts 2 ms later
constexpr microseconds kWriterOffset{500}; // writers arrive 0.5 ms after readers
constexpr std::uint64_t kStarvationBound = 150;  // steps without progress

// The protected data: a version number the writers bump and readers check. Inside the critical
// section nobody else may be writing (readers see one value from start to end of their read).
struct Data {
  lab::Shared<int> version{0, "data"};
};

void Read(Data& d) {
  const int before = d.version.read();
  lab::sleep_for(kAccessTime);
  LAB_ASSERT_MSG(d.version.read() == before, "a writer changed the data during a read");
}

void Write(Data& d) {
  d.version.write(d.version.read() + 1);
  lab::sleep_for(kAccessTime);
}

// Runs the workload against a protocol: `read(i)` and `write(i)` each perform one access.
// (Plain callables, not std::function: see producer_consumer.cc's RunPipeline.)
template <class ReadFn, class WriteFn>
void RunWorkload(const ReadFn& read, const WriteFn& write) {
  std::vector<lab::Thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.push_back(lab::Thread([&read, r] {
      lab::sleep_for(kStagger * r);
      for (int i = 0; i < kRounds; ++i) {
        read();
        lab::sleep_for(kThinkTime);
      }
    }));
  }
  for (int w = 0; w < 2; ++w) {
    threads.push_back(lab::Thread([&write, w] {
      lab::sleep_for(kWriterOffset + kStagger * w);
      for (int i = 0; i < kRounds; ++i) {
        write();
        lab::sleep_for(kThinkTime);
      }
    }));
  }
  for (lab::Thread& t : threads) t.join();
}

// ---- reader_preference: the first reader locks writers out, the last lets them in ----
void ReaderPreference(bool readcount_mutex) {
  Data data;
  lab::Semaphore mutex(1, "mutex");  // guards readcount
  lab::Semaphore wrt(1, "wrt");      // held by a writer, or by the readers as a group
  lab::Shared<int> readcount{0, "readcount"};
  RunWorkload(
      [&] {
        if (readcount_mutex) mutex.acquire();
        readcount.write(readcount.read() + 1);
        if (readcount.read() == 1) wrt.acquire();  // first reader in: lock writers out
        if (readcount_mutex) mutex.release();
        Read(data);
        if (readcount_mutex) mutex.acquire();
        readcount.write(readcount.read() - 1);
        if (readcount.read() == 0) wrt.release();  // last reader out: let writers in
        if (readcount_mutex) mutex.release();
      },
      [&] {
        wrt.acquire();  // waits while any reader is inside, and new readers keep coming
        Write(data);
        wrt.release();
      });
}

// ---- writer_preference: a waiting writer closes the door (read_try) on new readers ----
void WriterPreference() {
  Data data;
  lab::Semaphore rmutex(1, "rmutex"), wmutex(1, "wmutex"), read_try(1, "read_try"),
      resource(1, "resource");
  lab::Shared<int> readcount{0, "readcount"}, writecount{0, "writecount"};
  RunWorkload(
      [&] {
        read_try.acquire();  // closed as long as any writer waits or writes
        rmutex.acquire();
        readcount.write(readcount.read() + 1);
        if (readcount.read() == 1) resource.acquire();
        rmutex.release();
        read_try.release();
        Read(data);
        rmutex.acquire();
        readcount.write(readcount.read() - 1);
        if (readcount.read() == 0) resource.release();
        rmutex.release();
      },
      [&] {
        wmutex.acquire();
        writecount.write(writecount.read() + 1);
        if (writecount.read() == 1) read_try.acquire();  // first writer: close the door
        wmutex.release();
        resource.acquire();
        Write(data);
        resource.release();
        wmutex.acquire();
        writecount.write(writecount.read() - 1);
        if (writecount.read() == 0) read_try.release();  // last writer: reopen; never, if they overlap
        wmutex.release();
      });
}

// ---- fair: served in arrival order (a ticket lock); consecutive readers share the data ----
void Fair() {
  Data data;
  lab::Mutex m{"mutex"};
  lab::CondVar turn{"turn"};
  lab::Shared<int> next_ticket{0}, now_serving{0}, readers_inside{0}, writer_inside{0};
  RunWorkload(
      [&] {
        m.lock();
        const int ticket = next_ticket.read();
        next_ticket.write(ticket + 1);
        while (now_serving.read() != ticket || writer_inside.read() != 0) turn.wait(m);
        readers_inside.write(readers_inside.read() + 1);
        now_serving.write(ticket + 1);  // the next ticket may be a reader who can join us
        turn.notify_all();
        m.unlock();
        Read(data);
        m.lock();
        readers_inside.write(readers_inside.read() - 1);
        if (readers_inside.read() == 0) turn.notify_all();
        m.unlock();
      },
      [&] {
        m.lock();
        const int ticket = next_ticket.read();
        next_ticket.write(ticket + 1);
        while (now_serving.read() != ticket || writer_inside.read() != 0 ||
               readers_inside.read() != 0) {
          turn.wait(m);
        }
        writer_inside.write(1);
        now_serving.write(ticket + 1);
        m.unlock();
        Write(data);
        m.lock();
        writer_inside.write(0);
        turn.notify_all();
        m.unlock();
      });
}

}  // namespace

void RegisterReadersWriters(Catalogue& catalogue) {
  const std::string doc = "docs/problems/readers_writers.md";
  const Exploration timed = {.strategy = "pct", .iterations = 30, .depth = 3,
                             .starvation_bound = kStarvationBound};
  catalogue.Add({
      .name = "readers_writers/reader_preference",
      .expected = "starvation",
      .description = "first reader locks writers out, last lets them in: overlapping readers starve writers",
      .explanation =
          "Writers get in only when readcount drops to 0. While reads overlap (a new reader "
          "arrives before the last one leaves) that never happens, so a writer waits forever "
          "although nobody is stuck. Fix: make arriving readers queue behind a waiting writer "
          "(a turnstile or tickets, see readers_writers/fair).",
      .doc = doc,
      .exploration = timed,
      .body = [] { ReaderPreference(/*readcount_mutex=*/true); },
  });
  catalogue.Add({
      .name = "readers_writers/writer_preference",
      .expected = "starvation",
      .description = "a waiting writer closes the door on readers: overlapping writers starve readers",
      .explanation =
          "The first waiting writer takes `read_try` and the last writer gives it back. When a "
          "writer always queues before the previous one finishes, writecount never reaches 0 and "
          "readers wait forever. Fix: serve in arrival order (readers_writers/fair).",
      .doc = doc,
      .exploration = timed,
      .body = WriterPreference,
  });
  catalogue.Add({
      .name = "readers_writers/fair",
      .expected = "clean",
      .description = "tickets in arrival order; consecutive readers share, a writer waits its turn",
      .explanation =
          "Everyone takes a ticket and enters in ticket order, so nobody is overtaken forever; a "
          "reader lets the next ticket in at once, so readers that arrive together still read "
          "together.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 300, .depth = 3,
                      .starvation_bound = kStarvationBound},
      .body = Fair,
  });
  catalogue.Add({
      .name = "readers_writers/readcount_without_mutex",
      .expected = "data-race",
      .description = "reader preference with readcount updated outside its mutex",
      .explanation =
          "`readcount = readcount + 1` is a load and a store; two readers can both load 0, both "
          "think they are first, and later neither thinks it is last, so `wrt` is never "
          "released. Fix: update and test readcount under its mutex.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 100, .depth = 2,
                      .starvation_bound = kStarvationBound},
      .body = [] { ReaderPreference(/*readcount_mutex=*/false); },
  });
}

}  // namespace problems
