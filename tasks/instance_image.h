// Which Docker image an instance is evaluated in, when `swebox eval --backend docker` evaluates in
// SWE-bench's per-instance images (docs/formats.md §4.2) instead of over a base tree from --repos:
// the suite record's `image` field, or an --image-template expanded for the instance.
#pragma once

#include <string>

#include "tasks/suite.h"

namespace swebox::tasks {

// SWE-bench's names for an instance's evaluation image (harness/test_spec/test_spec.py,
// instance_image_key): built locally "sweb.eval.<arch>.<instance_id lowercased>:latest"; on Docker
// Hub "swebench/" + that, with every "__" written "_1776_".
std::string swebench_local_image(const std::string& instance_id);
std::string swebench_hub_image(const std::string& instance_id);

// The placeholders of an --image-template, each replaced by:
//   {instance_id}        the id as is                         django__django-11099
//   {instance_id_lower}  lowercased (SWE-bench's local names) django__django-11099
//   {instance_id_1776}   lowercased, "__" as "_1776_" (Docker Hub's names)  django_1776_django-11099
//   {arch}               x86_64 or arm64, this host's, as SWE-bench picks it
// E.g. "sweb.eval.x86_64.{instance_id_lower}:latest" or "swebench/sweb.eval.{arch}.{instance_id_1776}:latest".
// Throws std::invalid_argument naming an unknown placeholder or an unclosed brace.
std::string expand_image_template(const std::string& image_template, const std::string& instance_id);
// The template, checked without an instance (for the command line); throws as above.
std::string checked_image_template(const std::string& image_template);

// Why evaluation options cannot go together, or "": an --image-template without evaluation in
// instance images (--backend docker); sealed grading in instance images (it adapts the eval script
// and judges the tree against swebox's own base tree, which an image evaluation does not have).
std::string image_mode_problem(bool instance_images, const std::string& image_template, bool sealed);

// The image an instance is evaluated in: the template's expansion when a template is given (the
// operator's choice wins over the data), else the record's `image` field; "" when neither.
std::string instance_image(const Instance& instance, const std::string& image_template);

// What to do when an instance image is not on this host (nothing is ever pulled), for messages.
std::string instance_image_hint(const std::string& instance_id);

}  // namespace swebox::tasks
