"""The shapes the tests and planted twins of properties/ share."""

def property_test(name, deps = [], size = "small", rc_params = None):
    """A cc_test built from <name>.cc, with the lab's test main and rapidcheck.

    Args:
      name: the test; its source is <name>.cc.
      deps: what it tests (the test main and rapidcheck are added).
      size: Bazel test size.
      rc_params: RC_PARAMS for every run, e.g. "max_size=30" (say why at the call).
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"],
        env = {"RC_PARAMS": rc_params} if rc_params else {},
        deps = deps + [
            "//ipc/audit:test_main",
            "@system//:rapidcheck",
        ],
    )

def planted_library(name, deps):
    """The planted twin planted/<name>.h as a testonly header-only library."""
    native.cc_library(
        name = name,
        testonly = True,
        hdrs = ["planted/" + name + ".h"],
        deps = deps,
    )
