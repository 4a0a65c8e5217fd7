# Warnings and sanitizers as INTERFACE targets, linked by every project target.
add_library(xnode_warnings INTERFACE)
target_compile_options(xnode_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
  -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2)
if(XNODE_DEVELOPER)
  target_compile_options(xnode_warnings INTERFACE -Werror)
endif()

add_library(xnode_sanitizers INTERFACE)
if(XNODE_SANITIZE)
  target_compile_options(xnode_sanitizers INTERFACE -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(xnode_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
