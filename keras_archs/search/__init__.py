"""Architecture search over the NASNet cell space of `keras_archs.layers.nas` (issue 15, in progress).

`space`: sampling, mutation (Real et al. 2019) and the canonical JSON form of genotypes.
"""
