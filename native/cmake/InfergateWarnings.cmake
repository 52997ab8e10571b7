# Strict warnings for infergate's own native targets (never for third-party headers, which targets
# include as SYSTEM). Shared by the addon build (top-level CMakeLists.txt) and the test build
# (native/CMakeLists.txt) so both compile core with the same flags.
function(infergate_strict_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wnull-dereference -Wdouble-promotion -Wimplicit-fallthrough
    -Werror)
endfunction()
