// lab/interpose/result_file.h: the shared file through which `ipclab explore` and the preloaded
// interposition library (libipclab_interpose.so) talk about one run of the program.
//
// The explorer creates the file (sized kResultFileSize), fills in the replay choices, and passes
// its path in IPCLAB_EXPLORE_RESULT. The library maps it MAP_SHARED and appends every choice and
// step as it happens, so the schedule survives a crash, an abort or a kill of the program. On a
// hang it writes the diagnosis and the kind, then `_exit(kHangExitCode)`.
//
// Plain data only: both sides are built from this header in the same build.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lab::interpose {

inline constexpr std::uint32_t kResultMagic = 0x31584c49;  // "ILX1"
inline constexpr std::uint32_t kMaxChoices = 1u << 16;
inline constexpr std::uint32_t kMaxSteps = 1u << 12;        // a ring: the last kMaxSteps steps
inline constexpr std::uint32_t kDiagnosisBytes = 8192;
inline constexpr int kHangExitCode = 86;

// What the library found itself (the explorer classifies exits and signals).
// kHang: no thread can run and one waits on a pipe, socket, message queue or signal nobody will
// write to, send or close.
// kDataRace: the race detector of access.cc (programs built with tools/ipclab-cc); kStarvation: a
// waiting rwlock writer overtaken by more read acquisitions than the bypass bound.
enum class RunKind : std::uint32_t {
  kNone = 0, kDeadlock = 1, kLostWakeup = 2, kTooManyThreads = 3, kHang = 4, kDataRace = 5,
  kStarvation = 6
};

// The interposed calls, in the order of kCallNames.
enum class Call : std::uint16_t {
  kStart, kCreate, kJoin, kDetach, kExit, kMutexLock, kMutexTrylock, kMutexTimedlock, kMutexUnlock,
  kCondWait, kCondTimedwait, kCondSignal, kCondBroadcast, kSemWait, kSemTrywait, kSemTimedwait,
  kSemPost, kYield, kSleep, kThreadEnd,
  // Processes and IPC (calls_process.cc, calls_ipc.cc); faults the strategy chose (core.cc).
  kFork, kWaitpid, kProcessExit, kRead, kWrite, kClose, kOpen, kAccess, kUnlink, kShmOpen,
  kSemOpen, kMqOpen, kKillFault, kSignalFault,
  // access.cc (memory-access points of ipclab-cc programs)
  kLoad, kStore, kAtomic,
  // calls_sync2.cc
  kRwRdlock, kRwTryrdlock, kRwTimedrdlock, kRwWrlock, kRwTrywrlock, kRwTimedwrlock, kRwUnlock,
  kSpinLock, kSpinTrylock, kSpinUnlock, kBarrierWait, kSemClose, kSemUnlink,
  // calls_wait.cc
  kMqSend, kMqReceive, kMqTimedsend, kMqTimedreceive, kMsgsnd, kMsgrcv, kSemop, kSemtimedop, kFlock,
  kFcntlLock, kKill, kSigwait, kSigwaitinfo, kSigtimedwait,
  // calls_io.cc, calls_exec.cc
  kRecv, kRecvfrom, kRecvmsg, kSend, kSendto, kSendmsg, kAccept, kConnect, kPoll, kPpoll, kSelect,
  kPselect, kEpollWait, kEpollPwait, kExec, kSpawn,
  kCount
};
inline constexpr const char* kCallNames[] = {
    "start", "pthread_create", "pthread_join", "pthread_detach", "pthread_exit",
    "pthread_mutex_lock", "pthread_mutex_trylock", "pthread_mutex_timedlock",
    "pthread_mutex_unlock", "pthread_cond_wait", "pthread_cond_timedwait", "pthread_cond_signal",
    "pthread_cond_broadcast", "sem_wait", "sem_trywait", "sem_timedwait", "sem_post",
    "sched_yield", "sleep", "thread-end", "fork", "waitpid", "process-exit", "read", "write",
    "close", "open", "access", "unlink", "shm_open", "sem_open", "mq_open", "FAULT:SIGKILL",
    "FAULT:SIGUSR1",
    "load", "store", "atomic",
    "pthread_rwlock_rdlock", "pthread_rwlock_tryrdlock", "pthread_rwlock_timedrdlock",
    "pthread_rwlock_wrlock", "pthread_rwlock_trywrlock", "pthread_rwlock_timedwrlock",
    "pthread_rwlock_unlock", "pthread_spin_lock", "pthread_spin_trylock", "pthread_spin_unlock",
    "pthread_barrier_wait", "sem_close", "sem_unlink",
    "mq_send", "mq_receive", "mq_timedsend", "mq_timedreceive", "msgsnd", "msgrcv", "semop",
    "semtimedop", "flock", "fcntl", "kill", "sigwait", "sigwaitinfo", "sigtimedwait",
    "recv", "recvfrom", "recvmsg", "send", "sendto", "sendmsg", "accept", "connect", "poll", "ppoll",
    "select", "pselect", "epoll_wait", "epoll_pwait", "exec", "posix_spawn"};
static_assert(sizeof(kCallNames) / sizeof(kCallNames[0]) == static_cast<int>(Call::kCount));

struct StepRecord {
  std::uint32_t thread;
  std::uint16_t call;          // Call
  std::uint16_t caller_in_exe; // 1 when caller_offset is an offset into the main executable
  std::uint64_t object;        // address of the mutex/condvar/semaphore, thread id for join
  std::uint64_t caller_offset; // return address (minus the executable's load base if in it)
  std::int64_t value;          // result or woken thread, call-specific
};

inline constexpr std::uint32_t kMaxThreadRecords = 512;
inline constexpr std::uint32_t kMaxCreated = 64;

enum class ObjectType : std::uint32_t { kShm = 1, kSem = 2, kMq = 3, kSysvShm = 4, kSysvSem = 5, kSysvMsg = 6 };
struct CreatedObject {
  std::uint32_t type;              // ObjectType
  std::int32_t sysv_id;            // SysV: the id
  char name[256];                  // POSIX: the name as passed (leading '/')
};

struct ResultHeader {
  std::uint32_t magic;
  std::uint32_t replay_count;      // explorer -> library: choices[0..replay_count) to replay
  std::uint32_t choice_count;      // library -> explorer: choices made (may exceed kMaxChoices)
  std::uint32_t step_count;        // total steps (ring of kMaxSteps)
  std::uint32_t kind;              // RunKind
  std::uint32_t threads;           // controlled threads created, incl. main
  std::uint32_t started;           // 1 once the library took control
  std::uint32_t access_points;     // 1 once an ipclab-cc-built program announced its callbacks
  char diagnosis[kDiagnosisBytes]; // NUL-terminated text, for kind != kNone
  // Process trees: thread i (StepRecord::thread) is thread thread_local_index[i] of process
  // thread_proc[i]; `processes` were forked under control (1 = the program's own process only).
  std::uint32_t processes;
  std::uint32_t faults;            // faults injected (kill, signal)
  std::uint16_t thread_proc[kMaxThreadRecords];
  std::uint16_t thread_local_index[kMaxThreadRecords];
  // A controlled child process that died of a signal nobody chose (0 = none): its process index
  // and signal; the explorer reports it when the rest of the tree ended clean.
  std::uint32_t crashed_proc;
  std::int32_t crashed_signal;
  // Named IPC objects the program created (O_CREAT / IPC_CREAT), for the leak check after the run.
  std::uint32_t created_count;
  CreatedObject created[kMaxCreated];
};

// ResultFile::choice_current when no enabled thread reached the point (see there).
inline constexpr std::uint16_t kNoCurrent = 0xffff;

struct ResultFile {
  ResultHeader header;
  std::uint32_t choices[kMaxChoices];
  StepRecord steps[kMaxSteps];
  // Per choice i (library -> explorer; what `--strategy dfs` builds its tree from): how many
  // alternatives it had, and the index among them of the thread that reached the point when that
  // thread could have continued (picking another one is a preemption), else kNoCurrent (a value
  // choice such as a fault, or a thread that blocks or ends there).
  std::uint16_t choice_alternatives[kMaxChoices];
  std::uint16_t choice_current[kMaxChoices];
};

inline constexpr std::size_t kResultFileSize = sizeof(ResultFile);

}  // namespace lab::interpose
