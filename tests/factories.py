"""factory_boy factories on the real reference data (regions and affairs come from the migration)."""

import datetime

import factory

from agreements.models import (
    Agreement,
    AgreementParty,
    GovernmentAffair,
    Milestone,
    MilestoneUpdate,
    NeedOffer,
    Region,
    ThirdParty,
    User,
)

PASSWORD = "kerjasama-demo"


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def affair(code: str) -> GovernmentAffair:
    return GovernmentAffair.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.go.id")
    role = User.Role.MINISTRY
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AgreementFactory(factory.django.DjangoModelFactory):
    """A signed KSDD KB between Kota Bandung and Kabupaten Bandung on Pariwisata, by default.

    ``regions=[...]`` (codes or Region objects) and ``affairs=[...]`` (codes) override the defaults.
    """

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"KB/{n:05d}/2024")
    document_type = Agreement.DocumentType.KB
    title = factory.Sequence(lambda n: f"Pengembangan Kawasan Wisata Terpadu {n}")
    cooperation_kind = Agreement.Kind.KSDD_SUKARELA
    signed_on = datetime.date(2024, 1, 15)

    @factory.post_generation
    def regions(obj, create, extracted, **kwargs):
        if not create:
            return
        codes = extracted if extracted is not None else ["32.73", "32.04"]
        for item in codes:
            reg = item if isinstance(item, Region) else region(item)
            AgreementParty.objects.create(agreement=obj, region=reg, document_number=f"{obj.number}/{reg.code}")

    @factory.post_generation
    def affairs(obj, create, extracted, **kwargs):
        if not create:
            return
        codes = extracted if extracted is not None else ["3.26"]
        obj.affairs.set([a if isinstance(a, GovernmentAffair) else affair(a) for a in codes])

    @factory.post_generation
    def third_parties(obj, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                ThirdParty.objects.create(agreement=obj, name=name)


class PksFactory(AgreementFactory):
    number = factory.Sequence(lambda n: f"PKS/{n:05d}/2024")
    document_type = Agreement.DocumentType.PKS


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    agreement = factory.SubFactory(PksFactory)
    title = factory.Sequence(lambda n: f"Tahap {n}")
    due_on = datetime.date(2024, 6, 30)
    status = Milestone.Status.SCHEDULED


class MilestoneUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneUpdate

    milestone = factory.SubFactory(MilestoneFactory)
    status_before = Milestone.Status.SCHEDULED
    status_after = Milestone.Status.IN_PROGRESS
    progress = 10


class NeedOfferFactory(factory.django.DjangoModelFactory):
    """A need of Kota Bandung on Pariwisata, by default; ``region``/``affair`` accept codes."""

    class Meta:
        model = NeedOffer

    region = factory.LazyFunction(lambda: region("32.73"))
    affair = factory.LazyFunction(lambda: affair("3.26"))
    kind = NeedOffer.Kind.NEED
    description = factory.Sequence(lambda n: f"Pendampingan pengelolaan destinasi wisata {n}")
    priority = NeedOffer.Priority.MEDIUM

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        for name, lookup in (("region", region), ("affair", affair)):
            if isinstance(kwargs.get(name), str):
                kwargs[name] = lookup(kwargs[name])
        return super()._create(model_class, *args, **kwargs)
