#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: artifact
short_description: Place a file checked against its SHA-256, from the controller or downloaded
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Places one release artifact (a binary, an image tarball, a package, a key, a manifest) on the target.
  - With O(src), the controller-local file is hashed on the controller first; a missing file or a different
    SHA-256 fails the task naming both checksums, and nothing is placed or sent. Then it is copied like
    M(ansible.builtin.copy) does (only when the target's copy differs). An air-gapped installation downloads nothing.
  - With O(url), the target downloads it with M(ansible.builtin.get_url), which checks the same SHA-256.
  - Returns C(changed) when the target's file was placed or replaced, so that callers can C(notify) a handler.
  - This is an action plugin; the work runs on the controller and the target.
attributes:
  check_mode:
    support: full
    description: The controller-local file is still checked; nothing is copied or downloaded, and the task says
      whether it would be.
  diff_mode:
    support: none
    description: Artifacts are binary.
  platform:
    support: full
    description: Hashes on the controller; places the file on any POSIX target.
    platforms: posix
  action:
    support: full
    description: An action plugin that runs M(ansible.builtin.copy) or M(ansible.builtin.get_url) for the placement.
options:
  src:
    description: Path of the artifact on the controller. When not empty it is used and O(url) is ignored (an
      air-gapped inventory sets it; the role's default URL can stay).
    type: path
  url:
    description: Where the target downloads the artifact from, when O(src) is empty.
    type: str
  checksum:
    description: The artifact's SHA-256 (64 hex characters), as its publisher lists it.
    type: str
  require_checksum:
    description: Fail when O(checksum) is empty. Only a trust anchor obtained otherwise (a repository key fetched
      over HTTPS from its publisher) may be placed without one.
    type: bool
    default: true
  dest:
    description: Path of the artifact on the target.
    type: path
    required: true
  owner:
    description: Owner of O(dest).
    type: str
  group:
    description: Group of O(dest).
    type: str
  mode:
    description: Mode of O(dest), for example C("0755").
    type: raw
  name:
    description: What the artifact is, for messages (defaults to the file name).
    type: str
"""

EXAMPLES = r"""
- name: Place the K3s binary from the controller (air-gapped) or from its release
  aphex.platform.artifact:
    name: K3s binary
    src: "{{ k3s_binary_src }}"          # empty: downloaded from url
    url: "{{ k3s_binary_url }}"
    checksum: "{{ k3s_binary_checksum }}"
    dest: /usr/local/bin/k3s
    owner: root
    group: root
    mode: "0755"
  notify: Restart k3s
"""

RETURN = r"""
source:
  description: Where the artifact came from, C(controller) or C(download).
  returned: success
  type: str
  sample: controller
checksum:
  description: The SHA-256 the artifact was checked against (empty when none was required).
  returned: success
  type: str
  sample: 8d7bd3f23c6f5c3d5a1a6e0d2a9f1c3e4b5a6978c0d1e2f3a4b5c6d7e8f90a1b
dest:
  description: Path of the artifact on the target.
  returned: success
  type: str
  sample: /usr/local/bin/k3s
sha256:
  description:
    - The SHA-256 of the controller-local file, O(checksum) when it was checked against one, else computed (for
      pinning it).
  returned: when the artifact came from the controller
  type: str
  sample: 8d7bd3f23c6f5c3d5a1a6e0d2a9f1c3e4b5a6978c0d1e2f3a4b5c6d7e8f90a1b
"""
