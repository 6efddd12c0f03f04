# Warnings are errors on every compiler we build with.
function(jk_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${JITKIT_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wconversion
      -Wstrict-prototypes -Wmissing-prototypes -Wno-sign-conversion
      $<$<BOOL:${JITKIT_WERROR}>:-Werror>)
  endif()
endfunction()
