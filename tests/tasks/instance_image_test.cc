// Which image an instance is evaluated in (tasks/instance_image.h): SWE-bench's names and the
// --image-template placeholders.
#include <doctest/doctest.h>

#include <stdexcept>

#include "tasks/instance_image.h"

using namespace swebox::tasks;

TEST_CASE("SWE-bench's image names: lowercased locally, \"__\" as \"_1776_\" on Docker Hub") {
  // harness/test_spec/test_spec.py, instance_image_key; the arch is the host's (x86_64 or arm64).
  const std::string arch = expand_image_template("{arch}", "");
  CHECK((arch == "x86_64" || arch == "arm64"));
  CHECK(swebench_local_image("django__django-11099") == "sweb.eval." + arch + ".django__django-11099:latest");
  CHECK(swebench_hub_image("django__django-11099") ==
        "swebench/sweb.eval." + arch + ".django_1776_django-11099:latest");
  CHECK(swebench_local_image("Pylint-dev__Pylint-4970") == "sweb.eval." + arch + ".pylint-dev__pylint-4970:latest");
}

TEST_CASE("an --image-template's placeholders expand per instance") {
  CHECK(expand_image_template("sweb.eval.{arch}.{instance_id_lower}:latest", "Org__Repo-1") ==
        "sweb.eval." + expand_image_template("{arch}", "") + ".org__repo-1:latest");
  CHECK(expand_image_template("swebench/sweb.eval.x86_64.{instance_id_1776}:latest", "Org__Repo-1") ==
        "swebench/sweb.eval.x86_64.org_1776_repo-1:latest");
  CHECK(expand_image_template("mirror.local/{instance_id}", "Org__Repo-1") == "mirror.local/Org__Repo-1");
  CHECK(expand_image_template("fixed:tag", "a__b-1") == "fixed:tag");
}

TEST_CASE("a bad --image-template is refused, naming what is wrong") {
  CHECK_THROWS_WITH_AS(checked_image_template("img:{instance}"), doctest::Contains("unknown placeholder {instance}"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(checked_image_template("img:{instance_id"), doctest::Contains("without its '}'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(checked_image_template("img:instance_id}"), doctest::Contains("without its '{'"),
                       std::invalid_argument);
  CHECK_THROWS_AS(checked_image_template(""), std::invalid_argument);
  CHECK(checked_image_template("sweb.eval.x86_64.{instance_id_lower}:latest") ==
        "sweb.eval.x86_64.{instance_id_lower}:latest");
}

TEST_CASE("the template wins over a record's image field, and neither means no image") {
  Instance inst;
  inst.instance_id = "o__r-7";
  CHECK(instance_image(inst, "").empty());
  inst.image = "registry.local/r-7:v1";
  CHECK(instance_image(inst, "") == "registry.local/r-7:v1");
  CHECK(instance_image(inst, "sweb.eval.x86_64.{instance_id_lower}:latest") == "sweb.eval.x86_64.o__r-7:latest");
}

TEST_CASE("options that cannot go together with instance images are named") {
  CHECK(image_mode_problem(false, "", false).empty());
  CHECK(image_mode_problem(true, "", false).empty());
  CHECK(image_mode_problem(true, "t:{instance_id}", false).empty());
  CHECK(image_mode_problem(false, "t:{instance_id}", false).find("--backend docker") != std::string::npos);
  CHECK(image_mode_problem(true, "", true).find("sealed grading is not available") != std::string::npos);
  CHECK(image_mode_problem(false, "", true).empty());  // sealed over the native backend is fine
}
