"""The stand-ins' patches on moto's classes nest and leave moto as it was (a session's moto server may be up
when a test starts its own)."""

from __future__ import annotations

from moto.s3.models import FakeDeleteMarker
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from dev.moto_patches import patched
from dev.offline_aws import offline_aws
from tests.orchestration.fake_sagemaker import simulated_sagemaker


class Base:
    def greet(self) -> str:
        return "base"


class Child(Base):
    pass


def test_nested_patches_restore_each_level():
    exclaim = (Child, "greet", lambda greet: lambda self: greet(self) + "!")
    with patched([exclaim], [(Child, "extra", lambda self: 1)]):
        with patched([exclaim], [(Child, "extra", lambda self: 2)]):
            assert (Child().greet(), Child().extra()) == ("base!!", 2)
        assert (Child().greet(), Child().extra()) == ("base!", 1)
    assert "greet" not in vars(Child) and not hasattr(Child, "extra")
    assert Child().greet() == "base"


def test_the_stand_ins_nest_and_leave_moto_as_it_was():
    before = SageMakerModelBackend.create_training_job
    with simulated_sagemaker(), offline_aws():
        assert SageMakerModelBackend.create_training_job is not before
    assert SageMakerModelBackend.create_training_job is before
    assert not hasattr(SageMakerResponse, "list_training_jobs_for_hyper_parameter_tuning_job")
    assert not hasattr(FakeDeleteMarker, "dispose")
