# core_standalone: the numerical core (common/core) stands alone.
#
# 1. Every #include of every file in CORE_DIR names either a header of
#    CORE_DIR itself ("pid.h") or one of the allowed system headers below:
#    the C library, a few POSIX headers, BLAS and zlib. <jansson.h>, <zmq.h>,
#    <sqlite3.h> or any other library header fails the test, naming the file.
# 2. Every source of CORE_DIR and main.c are compiled and linked into one
#    program with only BLAS, zlib and libm, and the program is run.
#
# cmake -DCORE_DIR=... -DMAIN=... -DOUT_DIR=... -DCC=... -DBLAS_CFLAGS=...
#       -DLINK_LIBS=... -P core_standalone.cmake   (lists separated by '|')

cmake_minimum_required(VERSION 3.18)

set(allowed
  # C11
  assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
  locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h
  stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h
  time.h uchar.h wchar.h wctype.h
  # POSIX
  pthread.h unistd.h fcntl.h sys/stat.h sys/types.h sys/time.h
  # the core's two libraries besides libm
  cblas.h zlib.h)

file(GLOB core_files ${CORE_DIR}/*.c ${CORE_DIR}/*.h)
if(NOT core_files)
  message(FATAL_ERROR "core_standalone: no sources in '${CORE_DIR}'")
endif()
set(bad "")
foreach(f ${core_files})
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
  get_filename_component(name ${f} NAME)
  foreach(line ${lines})
    if(line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      if(NOT CMAKE_MATCH_1 IN_LIST allowed)
        string(APPEND bad "\n  ${name}: <${CMAKE_MATCH_1}> is not a C library, BLAS or zlib header")
      endif()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      if(NOT EXISTS ${CORE_DIR}/${CMAKE_MATCH_1})
        string(APPEND bad "\n  ${name}: \"${CMAKE_MATCH_1}\" is not a header of the core")
      endif()
    else()
      string(APPEND bad "\n  ${name}: cannot read '${line}'")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "core_standalone: the core includes what it must not:${bad}")
endif()

string(REPLACE "|" ";" BLAS_CFLAGS "${BLAS_CFLAGS}")
string(REPLACE "|" ";" LINK_LIBS "${LINK_LIBS}")
file(GLOB core_sources ${CORE_DIR}/*.c)
file(MAKE_DIRECTORY ${OUT_DIR})
set(prog ${OUT_DIR}/core_standalone)
execute_process(
  COMMAND ${CC} -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror
          -I${CORE_DIR} ${BLAS_CFLAGS} ${core_sources} ${MAIN} -o ${prog} ${LINK_LIBS} -lm
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "core_standalone: the core does not build with only BLAS, zlib and libm:\n${out}")
endif()
execute_process(COMMAND ${prog} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "core_standalone: the program failed (${rc}):\n${out}")
endif()
message(STATUS "core_standalone: ${out}")
