// NDImage: the array side of FilterJIT. It knows nothing of the filter language.
//
// - `NDArray` (shape, byte strides, views over `NDArrayStorage`) of an `ElementType`; values are
//   read as Double and stored with SciPy's generic_filter casting rules (ElementCasting.swift).
// - `NPYFile`, `PNGFile` and `ImageFile` read and write `.npy` and grey `.png` files.
// - `BoundaryMode`, `Footprint`, `FilterOptions` and `LineFilterOptions` describe a filter;
//   `OptionParsing` parses the command line's spellings.
// - `genericFilter` and `genericFilter1D` are scipy.ndimage's drivers: validate the arguments,
//   plan per-axis index tables (mode arithmetic done once, a fixed offset table for the interior),
//   then call a C callback with SciPy's LowLevelCallable ABI, or a Swift closure, per element or line.
