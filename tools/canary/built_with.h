// Which sanitizer this translation unit was compiled with, as the compiler says (not as the
// build's flags claim): "tsan", "asan" or "none".
#pragma once

namespace ipclab::canary {

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IPCLAB_CANARY_BUILT_WITH "tsan"
#elif __has_feature(address_sanitizer)
#define IPCLAB_CANARY_BUILT_WITH "asan"
#endif
#endif
#ifndef IPCLAB_CANARY_BUILT_WITH
#define IPCLAB_CANARY_BUILT_WITH "none"
#endif

inline const char* BuiltWith() { return IPCLAB_CANARY_BUILT_WITH; }

}  // namespace ipclab::canary
