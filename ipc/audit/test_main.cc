// The GoogleTest main for every ipclab test: a test that leaves an IPC object of its session
// behind fails, names the object, and the object is removed so the next test starts clean.
// Bazel removes a test's System V objects and message queues when it ends, so the check has to
// run here, inside the test process, after every test.
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
  testing::InitGoogleTest(&argc, argv);
  (void)ipc::audit::SessionPid();  // fix the session pid before any test forks
  testing::UnitTest::GetInstance()->listeners().Append(new LeakCheck);
  return RUN_ALL_TESTS();
}
