// Package dataset loads labelled data sets (.npz/.npy, MNIST and
// Fashion-MNIST idx files, CSV), parses forget sets and serves samples in
// batches without holding more than it must in memory.
//
// # Sources
//
// Every data set is a Source: Len samples of SampleShape float32 features
// each, with int64 class labels, read by index:
//
//	src, err := dataset.Open("mnist:train", dataset.Options{})
//	...
//	defer dataset.Close(src)
//	x := make([]float32, len(idx)*784)
//	y := make([]int64, len(idx))
//	err = src.Read(idx, x, y) // y may be nil: features only
//
// Read is safe for concurrent use. A source without labels (a lone .npy
// file, a CSV file read with NoLabelColumn) reports HasLabels false and
// returns an error wrapping ErrNoLabels when asked for labels. NumClasses is
// Options.NumClasses when declared, otherwise the largest label + 1.
//
// # Data specs
//
// Open takes the CLI's --data forms:
//
//	mnist:train, mnist:test              MNIST idx files from $LETHE_MNIST_DIR, else
//	                                     $LETHE_CACHE/mnist, else ${XDG_CACHE_HOME:-~/.cache}/lethe/mnist
//	                                     (decompressed ones first, as `make setup` leaves them)
//	fashion-mnist:train, :test           from $LETHE_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist
//	PATH.npz                             arrays x [N, ...] (float32, float64, uint8) and y [N] (optional)
//	PATH.npy                             features only; OpenArrays(x, y) takes --x X.npy --y Y.npy
//	PATH.csv                             header row; label column Options.LabelColumn, "label", else the last
//	*-images-idx3-ubyte[.gz]             idx images; labels from *-labels-idx1-ubyte[.gz] beside them
//
// A missing MNIST or Fashion-MNIST file is an error wrapping fs.ErrNotExist
// that says to run `make setup`.
//
// # Conversion
//
// Features become float32. uint8 features are divided by 255 in float32
// arithmetic, exactly as torchvision's ToTensor does, unless Options.NoScale;
// float64 features are rounded to float32; float32 features are used as
// stored. Then Options.Normalize, when set, maps v to (v − mean)/std in
// float32 arithmetic (torchvision's Normalize; ParseNormalize parses the
// CLI's "mean,std"). idx images of shape [N, H, W] get sample shape
// [1, H, W], one channel as convolutional models expect; Reshape gives a
// source any other sample shape with the same number of elements, e.g. a
// model's input shape. Labels may be stored as any integer type, or as floats
// with integral values, in either byte order.
//
// # Validation
//
// Opening checks the format and header, the dtypes (features float32,
// float64 or uint8; labels integers), that x and y hold the same number of
// samples, and every label (≥ 0, below Options.NumClasses when declared);
// each error names the file and the problem, and bad labels are a
// *LabelError. NaN and ±Inf features (and float64 features beyond the
// float32 range) are a *NonFiniteError naming the sample and feature, and so
// are finite features that Options.Normalize makes non-finite (a tiny std
// or a mean far from the data overflows float32): features are checked
// after normalisation, uint8 ones included. Data
// held in memory are checked completely at open. Streamed float features are
// checked as they are read, by every Read, unless Options.ScanAtOpen asks for
// one sequential pass at open, so that a bad file fails before any work
// starts.
//
// # Memory
//
// .npy files and the uncompressed members of .npz archives (np.savez) are
// streamed: Read fetches the requested rows with ReadAt, runs of consecutive
// indices in one read of at most 1 MiB, through a pooled buffer, so data sets
// larger than memory work. Only C-order arrays are supported
// (Fortran order is an error, except for arrays where the two coincide).
// Deflated .npz members (np.savez_compressed) are decompressed into memory,
// as are CSV files (as float32) and idx files (as their uint8 bytes,
// converted on each Read: MNIST's training images take 47 MB). Labels are
// always held in memory, as int64. Uncompressed .npz members are not
// checked against their CRC-32; deflated members and gzip files are.
//
// # Limits
//
// Files are untrusted: a header may promise more than the file holds, and a
// small compressed file may expand a thousandfold. Options.MaxBytes
// (default DefaultMaxBytes, 4 GiB) bounds what one file may make a source
// hold in memory: a deflated .npz member decompressed, an idx file's data,
// a CSV file's features and labels (and the text of any one row), labels
// as int64, the samples of a forget .npz. Input over it is a *LimitError
// (wrapping ErrTooLarge) naming the file, the size and the limit, returned
// before the memory is taken. Memory for data read whole is taken at once
// only when the file's own size could hold what its header promises (its
// length, or a thousandfold for deflate); otherwise it grows with the bytes
// that actually arrive, never with a header's claim. ReadNPY has the
// same default, ReadNPYLimit another. Forget index files are read no
// further than one entry past the training set's size, where an index out
// of range or a duplicate must already have appeared. .npy headers are
// bounded too: at most 1 MiB, containers nested at most 16 deep, byte
// counts that fit an int64.
//
// # Views and batches
//
// Subset(src, idx) and Without(src, remove) are views that read through to
// their source: Without is the retained set D_r = D \ D_u, in the order of D,
// and costs memory proportional to len(remove). Views report the class count
// of the data set they view and do not close it. Batches splits 0..n-1 into
// batches, shuffled by a given generator or in order; ForEachBatch reads them
// one after another, the next while the caller computes on the current one.
// FromArrays wraps float32 data already in memory.
//
// # Forget sets
//
// ParseForget reads the CLI's --forget forms against a training set: a text
// file of indices (one per line; blank lines and '#' comments ignored), an
// .npy integer array of indices, or an .npz holding the samples themselves
// (x, and y when the training set has labels). The result holds sorted,
// unique indices; duplicates, indices out of range, an empty set and a set
// naming every training sample are *ForgetError values wrapping a sentinel.
//
// Samples are opened with the Options the training set was opened with, so
// they go through the same conversion, and a training row matches a sample
// when their float32 feature bits and labels are equal. Every training row
// matching a sample is forgotten, so a sample present several times in the
// training set is forgotten everywhere: a deletion request that left a copy
// behind would not delete it. A sample matching no training row is an
// error naming its position. Only the samples are indexed (a hash table);
// the training set is streamed past them once.
//
// The digest identifies a request in a certificate without revealing it: the
// SHA-256, written "sha256:<hex>", of
//
//	"lethe.forget/v1\nkind=<kind>\nindices=<k>\n"
//	each index as a little-endian uint64, ascending
//
// followed, for the samples kind, by
//
//	"samples=<m>\nelements=<features per sample>\nlabelled=<true|false>\n"
//	each sample as its float32 features (little-endian bits) then its int64
//	label (when labelled), the samples sorted byte-wise
//
// so the same set of indices gives the same digest whatever file it came
// from, and the same samples whatever their order.
//
// # Writing
//
// WriteNPY writes float32, float64 or int64 arrays and WriteNPZ writes x and
// y archives that numpy.load reads; both write a temporary file beside the
// target and rename it, so a reader never sees a partial file. ReadNPY reads
// a whole .npy file (e.g. the CLI's --vector), converting exactly or failing:
// float64 values written by WriteNPY come back bit for bit.
package dataset
