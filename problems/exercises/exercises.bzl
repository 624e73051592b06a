"""The list of exercises and the per-file tests of their starters, sleep fixes and solutions."""

EXERCISES = [
    "lost_update",
    "check_then_act",
    "lazy_init",
    "order_violation",
    "lost_wakeup",
    "if_instead_of_while",
    "bank_transfer",
    "dining_philosophers",
    "rendezvous",
    "barrier",
]

# The exercises with a planted sleep-based fix (docs/exercises/NAME/sleep_fix.cc).
SLEEP_FIXES = ["lost_wakeup", "order_violation", "dining_philosophers"]

def exercise_variant_tests():
    for name in EXERCISES:
        variants = ["starter", "solution"] + (["sleep_fix"] if name in SLEEP_FIXES else [])
        for variant in variants:
            native.cc_test(
                name = "%s_%s_test" % (name, variant),
                size = "medium",
                srcs = ["//docs/exercises:%s/%s.cc" % (name, variant)],
                env = {
                    "IPCLAB_EXERCISE": name,
                    "IPCLAB_EXERCISE_VARIANT": variant,
                },
                deps = [
                    ":variant_test_main",
                    ":" + name,
                ],
            )
