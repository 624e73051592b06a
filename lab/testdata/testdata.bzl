"""A planted-bug program and its correct twin from one source file."""

def bug_and_twin(name, src):
    # -UNDEBUG: the programs' own asserts are their oracle.
    native.cc_binary(
        name = name,
        srcs = [src, "shared_segment.h"],
        copts = ["-UNDEBUG"],
        linkopts = ["-pthread"],
    )
    native.cc_binary(
        name = name + "_fixed",
        srcs = [src, "shared_segment.h"],
        copts = ["-UNDEBUG"],
        local_defines = ["IPCLAB_FIXED"],
        linkopts = ["-pthread"],
    )

def instrumented_bug_and_twin(name, src):
    """Like bug_and_twin, but built by tools/ipclab-cc (ipclab-c++ for C++) as a user would:
    every load and store of `src` is a memory-access point for `ipclab explore`. -O0 -g keeps
    each access on its own source line in the reports. Under --config=tsan / asan the program is
    built with that sanitizer too (the preloaded library's dependencies then need its runtime)."""
    cxx = not src.endswith(".c")
    for target, defines in [(name, ""), (name + "_fixed", " -DIPCLAB_FIXED")]:
        native.genrule(
            name = target,
            srcs = [src, "shared_segment.h", "//tools:ipclab_access_rt.c"],
            outs = [target + ".bin"],
            cmd = select({
                "//lab/testdata:tsan": _wrapper_cmd(cxx, defines, src, " -fsanitize=thread"),
                "//lab/testdata:asan": _wrapper_cmd(cxx, defines, src, " -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all"),
                "//conditions:default": _wrapper_cmd(cxx, defines, src, ""),
            }),
            tools = ["//tools:ipclab-c++" if cxx else "//tools:ipclab-cc"],
            executable = True,
        )

def _wrapper_cmd(cxx, defines, src, sanitizer):
    return ("IPCLAB_ACCESS_RT=$(location //tools:ipclab_access_rt.c) " +
            "$(location //tools:%s) -O0 -g -UNDEBUG -pthread%s%s $(location %s) -o $@" %
            ("ipclab-c++" if cxx else "ipclab-cc", defines, sanitizer, src))
