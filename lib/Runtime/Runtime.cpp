//===- Runtime.cpp - runtime of mpc-compiled programs ---------------------===//
//
// Deliberately free of LLVM/MLIR: it is linked into every compiled
// program.
//
//===----------------------------------------------------------------------===//

#include "mpc/Runtime/Runtime.h"
#include "Flags.h"
#include "mpc/Runtime/CUDA.h"
#include "mpc/Runtime/Host.h"
#include "mpc/Support/OutputTarget.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <malloc.h>
#include <map>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mpc {
namespace runtime {

int64_t Array::itemSize(const std::string &dtype) {
  if (dtype == "<f4" || dtype == "<i4" || dtype == "<u4")
    return 4;
  if (dtype == "<f2" || dtype == "<i2" || dtype == "<u2")
    return 2;
  if (dtype == "<i8" || dtype == "<f8" || dtype == "<u8")
    return 8;
  if (dtype == "|b1" || dtype == "|i1" || dtype == "|u1")
    return 1;
  return 0;
}

static int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Array::elements() const { return elementCount(shape); }

std::string formatShape(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << (shape.size() == 1 ? ",)" : ")");
  return os.str();
}

/// Extracts the value of `key` from the header dict, e.g. 'descr': '<f4'.
static std::string headerField(const std::string &header,
                               const std::string &key,
                               const std::string &path) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    throw Error(path + ": not a valid .npy file: no '" + key + "' in header");
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    throw Error(path + ": not a valid .npy file: malformed header");
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    throw Error(path + ": not a valid .npy file: malformed header");
  char open = header[start];
  size_t end = open == '\'' ? header.find('\'', start + 1)
               : open == '(' ? header.find(')', start + 1)
                             : header.find_first_of(",}", start);
  if (end == std::string::npos)
    throw Error(path + ": not a valid .npy file: malformed header");
  if (open == '\'' || open == '(')
    return header.substr(start + 1, end - start - 1);
  return header.substr(start, end - start);
}

/// A .npy header: the array's dtype and shape, where its data starts and
/// how many bytes it has.
namespace {
struct NpyHeader {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t dataOffset = 0;
  int64_t bytes = 0;
};
} // namespace

static NpyHeader readNpyHeader(std::istream &in, const std::string &path) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw Error(path + ": not a .npy file (wrong magic)");
  uint32_t headerLength = 0;
  unsigned char lengthBytes[4] = {0, 0, 0, 0};
  int lengthSize = magic[6] == 1 ? 2 : 4;
  if (magic[6] < 1 || magic[6] > 3 ||
      !in.read(reinterpret_cast<char *>(lengthBytes), lengthSize))
    throw Error(path + ": unsupported or truncated .npy header");
  for (int i = lengthSize - 1; i >= 0; --i)
    headerLength = headerLength * 256 + lengthBytes[i];
  if (headerLength > (1u << 20))
    throw Error(path + ": .npy header too long");
  std::string header(headerLength, '\0');
  if (!in.read(header.data(), headerLength))
    throw Error(path + ": truncated .npy header");
  NpyHeader result;
  result.dataOffset = 8 + lengthSize + headerLength;
  result.dtype = headerField(header, "descr", path);
  if (!Array::itemSize(result.dtype))
    throw Error(path + ": unsupported dtype '" + result.dtype +
                "' (mpc reads <f4, <f2, <f8, <i8, <i4, <i2, |i1, <u8, <u4, <u2, |u1, |b1)");
  if (headerField(header, "fortran_order", path) != "False")
    throw Error(path + ": Fortran-ordered arrays are not supported; save a "
                       "C-ordered copy");
  std::stringstream dims(headerField(header, "shape", path));
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    size_t first = dim.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    try {
      result.shape.push_back(std::stoll(dim.substr(first)));
    } catch (...) {
      throw Error(path + ": not a valid .npy file: bad shape");
    }
  }
  // Products checked step by step: a hostile shape must not overflow.
  int64_t bytes = Array::itemSize(result.dtype);
  for (int64_t d : result.shape) {
    if (d < 0 || (d && bytes > (int64_t(1) << 50) / d))
      throw Error(path + ": not a valid .npy file: bad shape");
    bytes *= d;
  }
  result.bytes = bytes;
  return result;
}

/// Opens `path` and reads its .npy header; `in` is left at the data.
static NpyHeader openNpy(std::ifstream &in, const std::string &path) {
  in.open(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  return readNpyHeader(in, path);
}

static Error truncatedNpy(const std::string &path, const NpyHeader &header) {
  return Error(path + ": truncated: expected " + std::to_string(header.bytes) +
               " bytes of data for shape " + formatShape(header.shape));
}

Array readNpy(const std::string &path) {
  std::ifstream in;
  NpyHeader header = openNpy(in, path);
  Array array;
  array.dtype = header.dtype;
  array.shape = header.shape;
  try {
    array.data.resize(header.bytes);
  } catch (const std::bad_alloc &) {
    throw Error(path + ": " + std::to_string(header.bytes) +
                " bytes of data do not fit in memory");
  }
  if (!in.read(array.data.data(), header.bytes))
    throw truncatedNpy(path, header);
  return array;
}

int64_t MappedArray::elements() const { return elementCount(shape); }

MappedArray mapNpy(const std::string &path) {
  std::ifstream in;
  NpyHeader header = openNpy(in, path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int error = errno;
    if (fd >= 0)
      ::close(fd);
    throw Error(path + ": cannot open: " + std::strerror(error));
  }
  uint64_t fileBytes = uint64_t(st.st_size);
  if (fileBytes < header.dataOffset + uint64_t(header.bytes)) {
    ::close(fd);
    throw truncatedNpy(path, header);
  }
  void *base = mmap(nullptr, fileBytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int error = errno;
  ::close(fd); // the mapping keeps the file
  if (base == MAP_FAILED)
    throw Error(path + ": cannot map: " + std::strerror(error));
  MappedArray array;
  array.dtype = header.dtype;
  array.shape = header.shape;
  array.data = static_cast<const char *>(base) + header.dataOffset;
  array.mapping = std::shared_ptr<const void>(
      base, [fileBytes](const void *p) {
        munmap(const_cast<void *>(p), fileBytes);
      });
  return array;
}

/// Writes all of `bytes` to `fd`; false with errno set on failure.
static bool writeAll(int fd, const std::string &bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += size_t(n);
  }
  return true;
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  auto fail = [&](int error) {
    return Error(path + ": cannot write: " + std::strerror(error));
  };
  mpc_files::OutputTarget target = mpc_files::resolveOutputTarget(path);
  if (target.direct) {
    // --metrics-json /dev/stdout, a FIFO: written through, never replaced;
    // after what the program printed before.
    std::cout.flush();
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      throw fail(errno);
    bool written = writeAll(fd, bytes);
    int error = errno;
    ::close(fd);
    if (!written)
      throw fail(error);
    return;
  }
  // Beside the real destination (symlinks followed), so that the rename
  // replaces the file and not a link, on one file system. O_EXCL: never
  // through a file someone else put there.
  static unsigned counter = 0;
  std::string temp = target.path + ".tmp-" + std::to_string(getpid()) + "-" +
                     std::to_string(counter++);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw fail(errno);
  bool written = writeAll(fd, bytes);
  int error = errno;
  if (::close(fd) != 0 && written) {
    written = false;
    error = errno;
  }
  if (!written || std::rename(temp.c_str(), target.path.c_str()) != 0) {
    if (written)
      error = errno;
    std::remove(temp.c_str());
    throw fail(error);
  }
}

void writeNpy(const std::string &path, const Array &array) {
  std::string header = "{'descr': '" + array.dtype +
                       "', 'fortran_order': False, 'shape': " +
                       formatShape(array.shape) + ", }";
  // Pad so that magic + length + header + newline is a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  uint16_t length = header.size();
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.push_back(char(length & 0xff));
  bytes.push_back(char(length >> 8));
  bytes += header;
  bytes.append(array.data.data(), array.data.size());
  writeFileAtomically(path, bytes);
}

std::string outputFileName(const std::string &name) {
  static const char hex[] = "0123456789ABCDEF";
  std::string file;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '~' ||
                      (c == '.' && i > 0);
    if (unreserved && c < 0x80) {
      file.push_back(c);
    } else {
      file.push_back('%');
      file.push_back(hex[c >> 4]);
      file.push_back(hex[c & 15]);
    }
  }
  file += ".npy";
  if (name.empty() || file.size() > 255)
    throw Error("output '" + name.substr(0, 64) +
                (name.size() > 64 ? "...'" : "'") +
                (name.empty() ? " has an empty name"
                              : " has a name too long for a file (" +
                                    std::to_string(file.size()) +
                                    " bytes encoded, at most 255)"));
  return file;
}

void makeDirectories(const std::string &path) {
  struct stat st;
  if (path.empty() || (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
    return;
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0)
    makeDirectories(path.substr(0, slash));
  if (mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error(path + ": cannot create directory: " + std::strerror(errno));
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(path + ": not a directory");
}

void checkOutputFile(const std::string &flag, const std::string &path) {
  std::string where = flag + " " + path;
  if (path.empty())
    throw Error(flag + " needs a file name");
  mpc_files::OutputTarget target = mpc_files::resolveOutputTarget(path);
  if (target.direct) {
    if (access(path.c_str(), W_OK) != 0)
      throw Error(where + ": cannot write: " + std::strerror(errno));
    return;
  }
  struct stat st;
  if (stat(target.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(where + ": is a directory (a file name is expected)");
  size_t slash = target.path.find_last_of('/');
  std::string directory = slash == std::string::npos ? "."
                          : slash == 0 ? "/"
                                       : target.path.substr(0, slash);
  if (stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(where + ": the directory '" + directory +
                "' does not exist (nothing was run)");
  // The temporary file and the rename need write and search permission.
  if (access(directory.c_str(), W_OK | X_OK) != 0)
    throw Error(where + ": cannot write in '" + directory +
                "': " + std::strerror(errno));
}

void prepareOutputDirectory(const std::string &flag, const std::string &path) {
  if (path.empty())
    throw Error(flag + " needs a directory name");
  try {
    makeDirectories(path);
  } catch (const Error &e) {
    throw Error(flag + " " + path + ": " + e.what());
  }
  if (access(path.c_str(), W_OK | X_OK) != 0)
    throw Error(flag + " " + path + ": cannot write in it: " +
                std::strerror(errno));
}

static void printHelp(const std::string &program,
                      const std::vector<Signature> &inputs,
                      const std::vector<Signature> &outputs) {
  std::cout << "usage: " << program
            << " --input NAME=FILE.npy [--input ...] --output-dir DIR "
               "[--repeat N] [--device cpu|cuda|auto]\n"
            << "       (a single-input program also takes --input FILE.npy)\n"
            << "       " << program
            << " --describe   (the program descriptor, JSON)\n"
            << "inputs:\n";
  for (const Signature &s : inputs)
    std::cout << "  " << s.name << ": " << s.dtype << " " << formatShape(s.shape)
              << "\n";
  std::cout << "outputs (written to DIR as the name, bytes other than "
               "A-Z a-z 0-9 - . _ ~ and a leading '.' percent-encoded, "
               "plus .npy):\n";
  for (const Signature &s : outputs)
    std::cout << "  " << s.name << ": " << s.dtype << " " << formatShape(s.shape)
              << " -> " << outputFileName(s.name) << "\n";
}

bool selectCUDA(const std::string &flag, const DeviceCode &code,
                const std::string &programName, std::string &description) {
  if (flag != "cpu" && flag != "cuda" && flag != "auto")
    throw Error("--device must be cpu, cuda or auto, got '" + flag + "'");
  if (flag == "cuda" && !code.cuda)
    throw Error("--device cuda: this binary contains CPU code only "
                "(compile with mpc-opt --target=cuda or --target=cpu,cuda)");
  if (flag == "cpu" && !code.cpu)
    throw Error("--device cpu: this binary contains CUDA code only "
                "(compile with mpc-opt --target=cpu,cuda for both)");
  if (flag == "cpu" || (flag == "auto" && !code.cuda)) {
    description = "cpu";
    host::initialize(code.stateBytes, code.stateOffsets);
    return false;
  }
  try {
    description = "cuda: " + cuda::initialize(code.cudaArenaBytes,
                                              code.stateBytes,
                                              code.stateOffsets, programName);
    return true;
  } catch (const Error &e) {
    // Only auto on a binary that has CPU code falls back.
    if (flag == "cuda" || !code.cpu)
      throw;
    description = std::string("cpu (no usable GPU: ") + e.what() + ")";
    host::initialize(code.stateBytes, code.stateOffsets);
    return false;
  }
}

void keepBuffersMapped() {
  // glibc's largest mmap threshold (32 MiB on 64-bit); buffers below it
  // come from the heap, which is never trimmed back to the system.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
}

int runInference(int argc, char **argv, const std::string &programName,
                 const EntryPoint &entry, const DeviceCode &code) {
  keepBuffersMapped();
  const std::vector<Signature> &inputs = entry.inputs, &outputs = entry.outputs;
  try {
    std::map<std::string, std::string> files;
    std::string outputDir, device = "auto";
    int64_t repeat = 1;
    bool timed = false;
    static const std::vector<FlagSpec> known = {
        {"--help", false}, {"-h", false}, {"--input"},
        {"--output-dir"},  {"--device"},  {"--repeat"},
    };
    for (const ParsedFlag &flag : parseFlags(argc, argv, known)) {
      const std::string &arg = flag.name;
      auto value = [&] { return flag.value; };
      if (arg == "--help" || arg == "-h") {
        printHelp(programName, inputs, outputs);
        return 0;
      } else if (arg == "--input") {
        std::string spec = value();
        size_t eq = spec.find('=');
        if (eq == std::string::npos) {
          if (inputs.size() != 1)
            throw Error("--input " + spec +
                        ": name the input (NAME=FILE.npy); this program has " +
                        std::to_string(inputs.size()) + " inputs");
          files[inputs[0].name] = spec;
        } else {
          files[spec.substr(0, eq)] = spec.substr(eq + 1);
        }
      } else if (arg == "--output-dir") {
        outputDir = value();
      } else if (arg == "--device") {
        device = value();
      } else if (arg == "--repeat") {
        timed = true;
        try {
          repeat = std::stoll(value());
        } catch (const std::logic_error &) {
          throw Error("--repeat needs a number");
        }
        if (repeat < 1)
          throw Error("--repeat must be at least 1");
      }
    }
    for (const auto &[name, file] : files) {
      bool known = false;
      for (const Signature &s : inputs)
        known |= s.name == name;
      if (!known)
        throw Error("--input names '" + name + "', which is not an input of "
                    "this program (see --help)");
    }
    if (outputDir.empty())
      throw Error("--output-dir is required (see --help)");
    std::vector<std::string> outputFiles;
    for (const Signature &s : outputs)
      outputFiles.push_back(outputDir + "/" + outputFileName(s.name));
    // Before the inputs are read and the program runs (--repeat may
    // benchmark for minutes).
    prepareOutputDirectory("--output-dir", outputDir);
    std::vector<Array> arrays;
    for (const Signature &s : inputs) {
      auto it = files.find(s.name);
      if (it == files.end())
        throw Error("input '" + s.name + "' is missing (--input " + s.name +
                    "=FILE.npy)");
      Array array = readNpy(it->second);
      if (array.dtype != s.dtype || array.shape != s.shape)
        throw Error(it->second + ": input '" + s.name + "' must be " +
                    s.dtype + " " + formatShape(s.shape) + ", got " +
                    array.dtype + " " + formatShape(array.shape));
      arrays.push_back(std::move(array));
    }
    std::vector<const Array *> arguments;
    for (const Array &array : arrays)
      arguments.push_back(&array);
    std::string description;
    Kernel kernel = selectCUDA(device, code, programName, description)
                        ? entry.callCUDA
                        : entry.call;
    if (device != "cpu" && code.cuda)
      std::cerr << "device: " << description << "\n";
    std::vector<Array> results;
    auto start = std::chrono::steady_clock::now();
    for (int64_t r = 0; r < repeat; ++r)
      kernel(arguments, results);
    auto seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    if (timed)
      std::cout << "latency: " << seconds / repeat * 1e3 << " ms per run ("
                << repeat << " runs)\n";
    for (size_t i = 0; i < outputs.size(); ++i)
      writeNpy(outputFiles[i], results[i]);
    return 0;
  } catch (const std::exception &e) {
    std::cerr << programName << ": error: " << e.what() << "\n";
    return 1;
  }
}

} // namespace runtime
} // namespace mpc

//===----------------------------------------------------------------------===//
// Support functions the lowered code calls
//===----------------------------------------------------------------------===//

namespace {
/// MLIR's unranked memref: a rank and a pointer to a ranked descriptor
/// { allocated, aligned, offset, sizes[rank], strides[rank] }.
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};
struct RankedHeader {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t shapeAndStrides[];
};
} // namespace

/// Copies between strided memrefs of any rank (MLIR lowers non-contiguous
/// memref.copy to this call, e.g. for padding).
extern "C" void memrefCopy(int64_t elementSize, UnrankedMemRef *source,
                           UnrankedMemRef *target) {
  int64_t rank = source->rank;
  auto *src = static_cast<RankedHeader *>(source->descriptor);
  auto *dst = static_cast<RankedHeader *>(target->descriptor);
  const int64_t *sizes = src->shapeAndStrides;
  const int64_t *srcStrides = src->shapeAndStrides + rank;
  const int64_t *dstStrides = dst->shapeAndStrides + rank;
  char *srcBase = src->aligned + src->offset * elementSize;
  char *dstBase = dst->aligned + dst->offset * elementSize;
  if (rank == 0) {
    std::memcpy(dstBase, srcBase, elementSize);
    return;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (sizes[d] == 0)
      return;
  std::vector<int64_t> index(rank, 0);
  while (true) {
    int64_t srcOffset = 0, dstOffset = 0;
    for (int64_t d = 0; d < rank; ++d) {
      srcOffset += index[d] * srcStrides[d];
      dstOffset += index[d] * dstStrides[d];
    }
    std::memcpy(dstBase + dstOffset * elementSize,
                srcBase + srcOffset * elementSize, elementSize);
    int64_t d = rank - 1;
    while (d >= 0 && ++index[d] == sizes[d])
      index[d--] = 0;
    if (d < 0)
      return;
  }
}
