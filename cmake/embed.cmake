# mtown_embed(OUT_VAR FUNCTION BASE GLOB): generates a source defining
# mtown::core::embedded::FUNCTION() with every file matching GLOB (paths relative to
# BASE), regenerated when a matching file changes; sets OUT_VAR to the source's path.
function(mtown_embed out_var function base glob)
  file(GLOB inputs CONFIGURE_DEPENDS ${glob})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${function}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DVAR=${function} -DBASE=${base} -DGLOB=${glob}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${inputs} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${function}")
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
