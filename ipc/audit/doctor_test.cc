#include "ipc/audit/doctor.h"

#include <gtest/gtest.h>

namespace ipc::audit {
namespace {

TEST(Doctor, ChecksWhatIpclabNeedsAndCleansUp) {
  auto checks = RunDoctor();
  ASSERT_GE(checks.size(), 6u);
  for (const auto& c : checks) {
    EXPECT_FALSE(c.detail.empty()) << c.name;
    // This machine runs ipclab's own tests, so nothing ipclab needs may be missing here.
    EXPECT_NE(c.status, Check::Status::kFail) << c.name << ": " << c.detail;
  }
  EXPECT_EQ(checks[1].name, "posix-shm");
  EXPECT_NE(checks[5].detail.find("blocking wakeup"), std::string::npos);
}

}  // namespace
}  // namespace ipc::audit
