"""The ground every stage stands on: configuration errors and the domains file, settings models, paths, images."""
