#pragma once
// What the readers of the model-file formats share (module-private): the JSON helpers of
// config.json, shard indexes and safetensors headers, the safetensors reader the Hugging Face
// folder is made of, and the readers openWeights picks between.

#include "weights.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace HeadLens {

// nlohmann's messages start with "[json.exception.parse_error.101] "; people need the rest.
std::string jsonMessage(const std::exception &e);
// A text file of at most kMaxTextInputBytes; what names it in the InputError.
std::string readWholeFile(const std::string &path, const char *what);
// An exact integer of a JSON value (no floats), or nothing.
std::optional<int64_t> jsonInt(const nlohmann::json &v);

struct SafetensorsFile {
    std::shared_ptr<MappedFile> map;
    uint64_t headerBytes = 0; // 8 + N
    std::map<std::string, TensorEntry> tensors;
    std::map<std::string, std::string> metadata; // the header's __metadata__
};

SafetensorsFile readSafetensors(const std::string &path);

WeightSet openHfFolder(const std::filesystem::path &dir);
WeightSet openLlama2c(const std::string &path);

} // namespace HeadLens
