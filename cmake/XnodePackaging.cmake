# Debian packages of xnode (CPack DEB), built by scripts/package [amd64|arm64] into out/.
# The tree must be configured with CMAKE_INSTALL_PREFIX=/usr, so that GNUInstallDirs puts the
# configuration in /etc (scripts/package does). Maintainer scripts are in packaging/.

# The unit's Documentation= points here.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB xnode_operator_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${xnode_operator_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(xnode_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|amd64|AMD64)$")
  set(xnode_deb_arch amd64)
else()
  set(xnode_deb_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME xnode)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "xnode maintainers <xnode@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "xnode takes data records in from a department's local sources, checks
them against the department's catalog slice, queues them durably and delivers them over mutual TLS
to the municipal exchange platform (XEP/1). Runs as the systemd service xnode.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${xnode_deb_arch})
set(CPACK_DEBIAN_FILE_NAME "xnode_${PROJECT_VERSION}_${xnode_deb_arch}.deb")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Written out rather than from dpkg-shlibdeps, which cannot read a cross build's arm64 libraries
# without the sysroot's dpkg database; scripts/package checks this list against dpkg-shlibdeps on
# every native build. Boost is header-only (no runtime package). libpq5 is dlopen()ed only when a
# postgres source connects, hence Recommends. adduser makes the system user in postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), \
libmbedtls14 (>= 2.28.0), libmbedx509-1 (>= 2.28.0), libmbedcrypto7 (>= 2.28.0), \
libsqlite3-0 (>= 3.20.0), libyaml-cpp0.7 (>= 0.7.0), zlib1g (>= 1:1.2.0), adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libpq5")

# Every file shipped under /etc is a conffile: dpkg keeps the operator's edits on upgrade and asks
# (or follows --force-confold/confnew) when both sides changed.
file(GLOB xnode_catalog_files RELATIVE ${PROJECT_SOURCE_DIR}/conf/catalog.d CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/conf/catalog.d/*.yaml)
set(xnode_conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/xnode/xnode.yaml\n")
foreach(f ${xnode_catalog_files})
  string(APPEND xnode_conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/xnode/catalog.d/${f}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${xnode_conffiles}")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/${script} ${PROJECT_BINARY_DIR}/packaging/${script}
    COPYONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/conffiles
  ${PROJECT_BINARY_DIR}/packaging/postinst ${PROJECT_BINARY_DIR}/packaging/prerm
  ${PROJECT_BINARY_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
