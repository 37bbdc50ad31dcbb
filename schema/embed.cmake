# embed.cmake: compile the schema migrations into the program. Writes a C
# source that defines store__migration_sql / _name / _count (coordinator/store.h)
# from SCHEMA_DIR/NNNN_name.sql, which must be numbered 0001, 0002, ... without
# gaps. The text is written as a byte array (unsigned, so any UTF-8 is fine),
# so no character needs escaping.
#
#   cmake -DSCHEMA_DIR=<dir> -DOUT=<file.c> -P embed.cmake
if(NOT SCHEMA_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: set SCHEMA_DIR and OUT")
endif()
file(GLOB sql_files "${SCHEMA_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT sql_files)

set(src "/* Generated from the schema migrations by schema/embed.cmake: do not edit. */\n")
string(APPEND src "#include \"store.h\"\n\n")
set(sql_list "")
set(name_list "")
set(expected 1)
set(row "")  # 16 bytes per line (CMake regexes have no {n})
foreach(i RANGE 1 16)
  string(APPEND row "0x..,")
endforeach()
foreach(f IN LISTS sql_files)
  get_filename_component(name "${f}" NAME)
  string(SUBSTRING "${name}" 0 4 digits)
  string(REGEX REPLACE "^0+" "" number "${digits}")
  if(NOT number EQUAL expected)
    message(FATAL_ERROR "schema: migration ${name} should be number ${expected}: "
                        "migrations are numbered 0001, 0002, ... without gaps")
  endif()
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
  string(APPEND src "/* ${name} */\nstatic const unsigned char migration_${expected}[] = {\n    ${bytes}0x00};\n\n")
  string(APPEND sql_list "    (const char *)migration_${expected},\n")
  string(APPEND name_list "    \"${name}\",\n")
  math(EXPR expected "${expected} + 1")
endforeach()
math(EXPR count "${expected} - 1")
if(count EQUAL 0)
  message(FATAL_ERROR "schema: no migrations in ${SCHEMA_DIR}")
endif()
string(APPEND src "const char *const store__migration_sql[] = {\n${sql_list}};\n")
string(APPEND src "const char *const store__migration_name[] = {\n${name_list}};\n")
string(APPEND src "const int store__migration_count = ${count};\n")

# Rewrite the output only when it changes, so nothing rebuilds needlessly.
file(WRITE "${OUT}.tmp" "${src}")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
file(REMOVE "${OUT}.tmp")
