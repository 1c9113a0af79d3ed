"""``airoadmap.cache``: where the cache is, atomic folders, locks, the read-only mode, ``online``."""
from __future__ import annotations

import pytest

from airoadmap import cache


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("AIROADMAP_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "airoadmap"
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("AIROADMAP_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir().parts[-2:] == (".cache", "airoadmap")


def test_online_respects_offline_variables(monkeypatch):
    monkeypatch.setattr(cache, "_online", {})
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert cache.online() == (False, "offline: TRANSFORMERS_OFFLINE=1")


def test_atomic_folder_replaces_only_on_success(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.READONLY_VAR, raising=False)
    target = tmp_path / "asset"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), cache.atomic_folder(target, marker={"v": 2}) as tmp:
        (tmp / "new.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert [p.name for p in tmp_path.iterdir()] == ["asset"] and (target / "old.txt").exists(), \
        "a failed build leaves the old folder and no temporary one"
    assert cache.read_marker(target) is None
    with cache.atomic_folder(target, marker={"v": 2}) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["airoadmap.json", "new.txt"]
    assert cache.read_marker(target) == {"v": 2}
    assert cache.folder_bytes(target) == sum(p.stat().st_size for p in target.iterdir())


def test_read_only_refuses_to_write_with_a_one_line_message(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.READONLY_VAR, "1")
    monkeypatch.setenv("AIROADMAP_NOTEBOOK", "11-dpo")
    assert cache.readonly()
    refused = pytest.raises(cache.AssetError, match=r"run `airoadmap assets` \(or `airoadmap assets --for 11-dpo`\)")
    with refused, cache.atomic_folder(tmp_path / "asset"):
        pytest.fail("the block must not run")
    assert not (tmp_path / "asset").exists()
    assert "\n" not in str(cache.missing("x"))
    monkeypatch.setenv(cache.READONLY_VAR, "0")
    assert not cache.readonly()


def test_locked_is_exclusive_until_the_block_ends(tmp_path):
    from filelock import FileLock, Timeout

    lock = tmp_path / "sub" / ".x.lock"
    with cache.locked(lock):
        assert lock.exists(), "the lock file and its folder are created"
        with pytest.raises(Timeout):
            FileLock(lock, timeout=0, is_singleton=False, thread_local=False).acquire()
    FileLock(lock, timeout=0, is_singleton=False).acquire().lock.release()  # free again


def test_share_makes_a_private_asset_readable_by_every_user_without_following_links(tmp_path):
    """The grader's kernels run as another user: a 0600 file in the cache would be invisible to them."""
    import stat as st

    folder = tmp_path / "asset"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "model.safetensors").write_bytes(b"x")
    (folder / "sub" / "model.safetensors").chmod(0o600)
    (folder / "sub").chmod(0o700)
    outside = tmp_path / "outside"
    outside.write_text("private")
    outside.chmod(0o600)
    (folder / "link").symlink_to(outside)
    assert cache.share(folder) >= 2, "expected the private folder and file to change"
    assert st.S_IMODE((folder / "sub" / "model.safetensors").stat().st_mode) & 0o444 == 0o444
    assert st.S_IMODE((folder / "sub").stat().st_mode) & 0o555 == 0o555
    assert st.S_IMODE(outside.stat().st_mode) == 0o600, "expected a link's target left alone"
    assert cache.share(folder) == 0, "expected a second call to change nothing"
