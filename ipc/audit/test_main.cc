// The GoogleTest main for every ipclab test: a test that leaves an IPC object of its session
// behind fails, names the object, and the object is removed so the next test starts clean.
// Bazel removes a test's System V objects and message queues when it ends, so the check has to
// run here, inside the test process, after every test.
#include <stdlib.h>

#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"

namespace {

class LeakCheck : public testing::EmptyTestEventListener {
  void OnTestEnd(const testing::TestInfo& info) override {
    auto left = ipc::audit::ListSessionObjects(ipc::audit::SessionPid());
    for (const auto& o : left) {
      ADD_FAILURE_AT(info.file(), info.line())
          << "ipc-leak: " << info.test_suite_name() << "." << info.name() << " left "
          << ipc::audit::Describe(o);
      (void)ipc::audit::Remove(o);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  // Stress runs and lab explorations split their own work (seeds, executions) across Bazel's
  // shards; a target that does so sets IPCLAB_SHARD_WITHIN_TESTS=1 (cc_test `env`) so GoogleTest
  // does not also hand each shard a different subset of the test cases.
  if (const char* v = getenv("IPCLAB_SHARD_WITHIN_TESTS"); v && v[0] == '1') {
    unsetenv("GTEST_TOTAL_SHARDS");
    unsetenv("GTEST_SHARD_INDEX");
  }
  testing::InitGoogleTest(&argc, argv);
  (void)ipc::audit::SessionPid();  // fix the session pid before any test forks
  testing::UnitTest::GetInstance()->listeners().Append(new LeakCheck);
  return RUN_ALL_TESTS();
}
