# GTRM_SANITIZE (e.g. "address,undefined"): every target of this build compiled and linked with those sanitizers,
# and any finding fatal (-fno-sanitize-recover=all), so a test with a memory error or undefined behaviour fails.
# Meant for a build directory of its own (.ci/run uses build-sanitize with clang).
if(GTRM_SANITIZE)
  message(STATUS "gtrm: sanitizers ${GTRM_SANITIZE}")
  add_compile_options(-fsanitize=${GTRM_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${GTRM_SANITIZE})
endif()
