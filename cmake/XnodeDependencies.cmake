# Debian 12 packages only (scripts/setup installs them).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(PostgreSQL REQUIRED)

# mbedTLS 2.28 (Debian 12) ships no CMake config: find it by hand.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
find_library(MBEDTLS_LIBRARY mbedtls REQUIRED)
find_library(MBEDX509_LIBRARY mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIBRARY mbedcrypto REQUIRED)
add_library(xnode_mbedtls INTERFACE)
target_include_directories(xnode_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(xnode_mbedtls INTERFACE ${MBEDTLS_LIBRARY} ${MBEDX509_LIBRARY} ${MBEDCRYPTO_LIBRARY})

# Asio and Beast are header-only; keep Beast in few translation units (each costs ~20 s).
add_library(xnode_asio INTERFACE)
target_link_libraries(xnode_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(xnode_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

# libpq: headers only. The postgres driver dlopen()s libpq.so.5 when a postgres source starts
# (drivers/postgres/libpq_api.hpp): linking it would load libssl, libcrypto, GSSAPI, LDAP, GnuTLS
# and p11-kit into every daemon, some 4-5 MiB of RSS, also where no source uses PostgreSQL.
add_library(xnode_libpq INTERFACE)
target_include_directories(xnode_libpq SYSTEM INTERFACE ${PostgreSQL_INCLUDE_DIRS})
target_link_libraries(xnode_libpq INTERFACE ${CMAKE_DL_LIBS})
