

def test_hints_name_a_profile_other_than_the_default():
    """Commands in hints carry -p NAME, except for the default profile."""
    from harness.profile import profile_flag

    assert profile_flag("default") == "" and profile_flag(None) == ""
    assert f"insitu evolve{profile_flag('poems')}" == "insitu evolve -p poems"
