"""exercise_kit: the grading kit `ipclab check` links a student's file against.

From one cc_library (the kit: the check main, the harnesses, the lab), collects in its runfiles
  - every static archive of the library's transitive closure,
  - every header a student's file may include (the whole transitive header set),
  - NAME.flags: one line per flag, "copt X" (the build's --copt/--cxxopt, so a student's file is
    compiled as the kit was, sanitizers included), "archive PATH" (runfiles-relative, in link
    order), "linkopt X" (the libraries' linkopts and the build's --linkopt) and "pic 0|1".
"""

def _exercise_kit_impl(ctx):
    cc = ctx.attr.lib[CcInfo]
    archives = []
    linkopts = []
    pic = True
    for linker_input in cc.linking_context.linker_inputs.to_list():
        for lib in linker_input.libraries:
            archive = lib.pic_static_library or lib.static_library
            if archive == None:
                continue
            if lib.pic_static_library == None:
                pic = False
            archives.append(archive)
        linkopts.extend(linker_input.user_link_flags)
    cpp = ctx.fragments.cpp
    lines = ["copt " + c for c in cpp.copts + cpp.cxxopts]
    lines += ["archive " + a.short_path for a in archives]
    lines += ["linkopt " + l for l in linkopts + cpp.linkopts]
    lines.append("pic %d" % (1 if pic else 0))
    flags = ctx.actions.declare_file(ctx.label.name + ".flags")
    ctx.actions.write(flags, "\n".join(lines) + "\n")
    files = [flags] + archives
    return [DefaultInfo(
        files = depset(files),
        runfiles = ctx.runfiles(files = files, transitive_files = cc.compilation_context.headers),
    )]

exercise_kit = rule(
    implementation = _exercise_kit_impl,
    attrs = {"lib": attr.label(providers = [CcInfo])},
    fragments = ["cpp"],
)
