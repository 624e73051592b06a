"""ipclab_fuzz_test: one libFuzzer target, three ways to run it.

- In the default, tsan and asan configs the target links a small driver (regression_driver.cc)
  and the test replays every file of its seed corpus and crash reproducers (as rules_fuzzing and
  FuzzTest do), so a fixed bug stays fixed in every build.
- Under --config=fuzz it links libFuzzer and the test fuzzes for IPCLAB_FUZZ_SECONDS (bounded,
  starting from the corpus) before replaying the reproducers.
- fuzz/campaign.sh (`tools/ipclab fuzz`) runs the libFuzzer binary for long campaigns, and
  fuzz/build.sh builds every target OSS-Fuzz style (it reads the targets from fuzz/*.options).

Every target has `fuzz/<name>.options` (OSS-Fuzz format, a [libfuzzer] section of flags such as
max_len and timeout; `dict = FILE` names its dictionary under fuzz/), used by all three.
"""

def ipclab_fuzz_test(name, srcs, deps = [], dict = None, size = "small", **kwargs):
    """A libFuzzer target `name` with corpus fuzz/corpus/<name>/, reproducers fuzz/regressions/<name>/
    and options fuzz/<name>.options; `dict` must be the file its options name."""
    corpus = native.glob(["corpus/%s/**" % name])
    regressions = native.glob(["regressions/%s/**" % name])
    if not corpus:
        fail("%s: a fuzz target needs a seed corpus in fuzz/corpus/%s/" % (name, name))
    options = name + ".options"
    if not native.glob([options]):
        fail("%s: a fuzz target needs libFuzzer options in fuzz/%s" % (name, options))
    native.cc_binary(
        name = name + "_bin",
        testonly = True,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:fuzzing": [],
            "//conditions:default": ["//fuzz:regression_driver"],
        }),
        linkopts = select({
            "//fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        **kwargs
    )
    data = [":" + name + "_bin", options] + corpus + regressions
    args = [
        "$(location :%s_bin)" % name,
        "fuzz/corpus/" + name,
        "fuzz/regressions/" + name,
        "$(location %s)" % options,
    ]
    if dict:
        data.append(dict)
        args.append("$(location %s)" % dict)
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//fuzz:run_fuzz_test.sh"],
        args = args,
        data = data,
        tags = ["fuzz"],
    )
