# CPACK_PRE_BUILD_SCRIPTS: runs after cpack has installed (and stripped) the components into
# its staging folder, before it builds the packages. `strip` without arguments keeps the
# .comment and .note sections; remove them as Debian's dh_strip does (lintian:
# binary-has-unneeded-section).
file(GLOB_RECURSE programs LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
list(FILTER programs INCLUDE REGEX "/usr/bin/[^/]+$")
foreach(program IN LISTS programs)
    if(NOT IS_SYMLINK "${program}")
        execute_process(COMMAND "${CPACK_STRIP_PROGRAM}" --remove-section=.comment
                                --remove-section=.note "${program}"
                        RESULT_VARIABLE result)
        if(NOT result EQUAL 0)
            message(FATAL_ERROR "cpack-strip: strip failed on ${program}")
        endif()
    endif()
endforeach()
