# Read by cpack (CPACK_PROJECT_CONFIG_FILE) before it builds the packages.
# CPackDeb prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY (the project's DESCRIPTION) to every
# component's description; each CPACK_COMPONENT_<C>_DESCRIPTION starts with its own summary
# line, so the project-wide one is dropped here.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
