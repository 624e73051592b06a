"""A planted-bug program and its correct twin from one source file."""

def bug_and_twin(name, src):
    # -UNDEBUG: the programs' own asserts are their oracle.
    native.cc_binary(
        name = name,
        srcs = [src],
        copts = ["-UNDEBUG"],
        linkopts = ["-pthread"],
    )
    native.cc_binary(
        name = name + "_fixed",
        srcs = [src],
        copts = ["-UNDEBUG"],
        local_defines = ["IPCLAB_FIXED"],
        linkopts = ["-pthread"],
    )
