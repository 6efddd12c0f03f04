# Build and run one consumer program (consumer/consumer.c) each way a project
# takes jitkit: the installed CMake package (find_package), pkg-config (the
# shared library), add_subdirectory of the source tree, FetchContent from a
# local path. (The amalgamation is tests/ship's.)
#   -DBUILD_DIR=... -DSRC_DIR=... -DWORK=... -DCC=...
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix)
foreach(f include/jitkit/jitkit.h include/jitkit/mem.h include/jitkit/status.h)
  if(NOT EXISTS ${WORK}/prefix/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

# 1. CMake package
run(${CMAKE_COMMAND} -S ${SRC_DIR}/tests/install/consumer -B ${WORK}/cmake-build
    -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_C_COMPILER=${CC})
run(${CMAKE_COMMAND} --build ${WORK}/cmake-build)
run(${WORK}/cmake-build/consumer)
if(NOT last_out MATCHES "result = 0x12345678")
  message(FATAL_ERROR "consumer (cmake) printed: ${last_out}")
endif()
message("find_package consumer: ${last_out}")

# The shared library's SONAME follows the README's policy:
# libjitkit.so.0.MINOR while the major number is 0, libjitkit.so.MAJOR after.
file(GLOB sos ${WORK}/prefix/lib*/libjitkit.so ${WORK}/prefix/lib/*/libjitkit.so)
find_program(READELF readelf)
if(sos AND READELF)
  list(GET sos 0 so)
  run(${READELF} -d ${so})
  file(STRINGS ${SRC_DIR}/include/jitkit/version.h v REGEX "^#define JK_VERSION_(MAJOR|MINOR) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*" "\\1;\\2" v "${v}")
  list(GET v 0 major)
  list(GET v 1 minor)
  if(major EQUAL 0)
    set(soname libjitkit.so.0.${minor})
  else()
    set(soname libjitkit.so.${major})
  endif()
  if(NOT last_out MATCHES "SONAME[^\n]*\\[${soname}\\]")
    message(FATAL_ERROR "expected SONAME ${soname}:\n${last_out}")
  endif()
  message("shared library SONAME: ${soname}")
endif()

# 2. pkg-config (links the shared library)
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB pcdirs ${WORK}/prefix/lib*/pkgconfig ${WORK}/prefix/lib/*/pkgconfig)
  set(ENV{PKG_CONFIG_PATH} "${pcdirs}")
  run(${PKG_CONFIG} --cflags --libs --static jitkit)
  string(STRIP "${last_out}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CC} ${SRC_DIR}/tests/install/consumer/consumer.c -o ${WORK}/pc-consumer ${flags})
  get_filename_component(libdir "${pcdirs}" DIRECTORY)
  run(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${libdir} ${WORK}/pc-consumer)
  if(NOT last_out MATCHES "result = 0x12345678")
    message(FATAL_ERROR "consumer (pkg-config) printed: ${last_out}")
  endif()
  message("pkg-config consumer: ${last_out}")
endif()

# 3. add_subdirectory and 4. FetchContent: jitkit built inside the consumer's
# build (the library only: no tests, no CLI).
foreach(way subdir fetch)
  run(${CMAKE_COMMAND} -S ${SRC_DIR}/tests/install/${way} -B ${WORK}/${way}-build
      -DJITKIT_SOURCE=${SRC_DIR} -DCMAKE_C_COMPILER=${CC} -DCMAKE_BUILD_TYPE=Release
      -DJITKIT_BUILD_SHARED=OFF)
  run(${CMAKE_COMMAND} --build ${WORK}/${way}-build -j 2)
  run(${WORK}/${way}-build/consumer)
  if(NOT last_out MATCHES "result = 0x12345678")
    message(FATAL_ERROR "consumer (${way}) printed: ${last_out}")
  endif()
  message("${way} consumer: ${last_out}")
endforeach()
