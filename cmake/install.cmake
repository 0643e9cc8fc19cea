# Install rules (GNUInstallDirs): the programs, libuptake (versioned shared
# and static), the public headers, uptake.pc, the CMake package
# (find_package(uptake)), man pages from docs/man/*.scd, the default
# configuration files and the systemd units with the server's sysusers file.

set(UPTAKE_SYSTEMD_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
  CACHE PATH "Where the systemd units go")
set(UPTAKE_SYSUSERS_DIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
  CACHE PATH "Where the sysusers.d file goes")
find_program(UPTAKE_SCDOC scdoc)
if(UPTAKE_SCDOC)
  set(_upt_man_default ON)
else()
  set(_upt_man_default OFF)
endif()
option(UPTAKE_MAN "Build and install the man pages (needs scdoc)" ${_upt_man_default})

# ---- programs ------------------------------------------------------------------
foreach(t uptake_cli uptake_tuf_client uptake_agent uptake_secondary uptake_server)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# ---- libuptake -----------------------------------------------------------------
install(TARGETS uptake_shared uptake EXPORT uptakeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/uptake
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# pkg-config: the shared library by default, `pkg-config --static` adds what
# the static one needs.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(UPT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(UPT_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(UPT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(UPT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/uptake.pc.in ${PROJECT_BINARY_DIR}/uptake.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/uptake.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

include(CMakePackageConfigHelpers)
set(UPT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/uptake)
install(EXPORT uptakeTargets NAMESPACE uptake:: DESTINATION ${UPT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/uptakeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/uptakeConfig.cmake INSTALL_DESTINATION ${UPT_CMAKE_DIR})
# Before 1.0 every minor version may change the ABI (and the SONAME).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/uptakeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/uptakeConfig.cmake
  ${PROJECT_BINARY_DIR}/uptakeConfigVersion.cmake DESTINATION ${UPT_CMAKE_DIR})

# ---- man pages: docs/man/NAME.SECTION.scd -> NAME.SECTION ------------------------
if(UPTAKE_MAN)
  if(NOT UPTAKE_SCDOC)
    message(FATAL_ERROR "UPTAKE_MAN=ON needs scdoc (Debian: apt-get install scdoc)")
  endif()
  file(GLOB UPT_MAN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.scd)
  set(UPT_MAN_PAGES)
  foreach(src ${UPT_MAN_SOURCES})
    get_filename_component(page ${src} NAME_WLE) # uptake-agent.8
    string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" section ${page})
    set(out ${PROJECT_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${UPTAKE_SCDOC} < ${src} > ${out}
      DEPENDS ${src} VERBATIM)
    list(APPEND UPT_MAN_PAGES ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${UPT_MAN_PAGES})
endif()

# ---- configuration, systemd units, sysusers -------------------------------------
# The files in dist/ name the Debian paths (/usr/bin, /etc/uptake, /var/lib);
# other prefixes get their own paths written in.
function(upt_install_dist src dest name)
  file(READ ${PROJECT_SOURCE_DIR}/dist/${src} text)
  string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
  string(REPLACE "/etc/uptake/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/uptake/" text "${text}")
  file(WRITE ${PROJECT_BINARY_DIR}/dist/${src} "${text}")
  install(FILES ${PROJECT_BINARY_DIR}/dist/${src} DESTINATION ${dest} RENAME ${name} ${ARGN})
endfunction()
if(TARGET uptake_server)
  upt_install_dist(uptake-server.conf ${CMAKE_INSTALL_SYSCONFDIR}/uptake server.conf)
  upt_install_dist(uptake-server.service ${UPTAKE_SYSTEMD_UNIT_DIR} uptake-server.service)
  install(FILES ${PROJECT_SOURCE_DIR}/dist/uptake-server.sysusers
    DESTINATION ${UPTAKE_SYSUSERS_DIR} RENAME uptake-server.conf)
  if(UPTAKE_UI)
    install(DIRECTORY ${PROJECT_BINARY_DIR}/ui/ DESTINATION ${CMAKE_INSTALL_DATADIR}/uptake/ui)
  endif()
endif()
if(TARGET uptake_agent)
  upt_install_dist(uptake-agent.conf ${CMAKE_INSTALL_SYSCONFDIR}/uptake agent.conf)
  upt_install_dist(uptake-agent.service ${UPTAKE_SYSTEMD_UNIT_DIR} uptake-agent.service)
  install(FILES ${PROJECT_SOURCE_DIR}/dist/uboot-env.txt ${PROJECT_SOURCE_DIR}/dist/uptake-boot.cmd
    ${PROJECT_SOURCE_DIR}/dist/grub.cfg.d/uptake.cfg
    DESTINATION ${CMAKE_INSTALL_DATADIR}/uptake-agent)
endif()
