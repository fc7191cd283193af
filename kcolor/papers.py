"""The five papers kcolor reproduces, and how the project cites each one.

This table is the one place a citation is written: the model registry checks each
model's `paper` against it, `kcolor list-models` and the web page print `cite(id)`, and
a test checks that the README's paper table cites each paper the same way. Nothing is
filled in that the paper does not say: where it gives no year or public identifier, the
field is empty.

| id  | title | authors |
|-----|-------|---------|
| 000 | Stable Image Colorization via Reference Image Cross-Attention | Anshu Bansal |
| 001 | Image Colorization | Sofia Bazzan, Diletta Pasin |
| 002 | Image Colorization Using Conditional Generative Adversarial Networks | Mariana Pérez García |
| 003 | KMHCNet: A Gray-Scale Image Colorization Approach Using ResNet Encoder Based UNet++ Convolutional Autoencoder | Khandaker Mobashyer Hossain |
| 004 | ViT-Inception-GAN for Image Colourising | Tejas Bana, Jatan Loya, Siddhant Kulkarni |

Example:
    from kcolor.papers import cite
    cite("004")  # 'ViT-Inception-GAN for Image Colourising — Tejas Bana, Jatan Loya, Siddhant Kulkarni, 2021, arXiv:2106.06321'
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Paper:
    """One paper: what its title page says, and nothing more."""

    title: str
    authors: tuple
    place: str = ""  # university or venue, where the paper names one
    year: str = ""  # empty where the paper gives none
    identifier: str = ""  # e.g. "arXiv:2106.06321"; empty where none is given

    def cite(self) -> str:
        """`Title — Authors, place, year, identifier`, leaving out the empty fields."""
        authors = " and ".join(self.authors) if len(self.authors) == 2 else ", ".join(self.authors)
        return f"{self.title} — " + ", ".join(p for p in (authors, self.place, self.year, self.identifier) if p)


PAPERS = {
    "000": Paper("Stable Image Colorization via Reference Image Cross-Attention", ("Anshu Bansal",),
                 "Stanford University"),
    "001": Paper("Image Colorization", ("Sofia Bazzan", "Diletta Pasin"), "University of Padova"),
    "002": Paper("Image Colorization Using Conditional Generative Adversarial Networks", ("Mariana Pérez García",),
                 "Tecnológico de Monterrey", "2020"),
    "003": Paper(
        "KMHCNet: A Gray-Scale Image Colorization Approach Using ResNet Encoder Based UNet++ Convolutional Autoencoder",
        ("Khandaker Mobashyer Hossain",),
        "North South University",
    ),
    "004": Paper("ViT-Inception-GAN for Image Colourising", ("Tejas Bana", "Jatan Loya", "Siddhant Kulkarni"),
                 year="2021", identifier="arXiv:2106.06321"),
}


def get_paper(paper_id: str) -> Paper:
    """The paper with id `paper_id` ("000" ... "004")."""
    if paper_id not in PAPERS:
        raise ValueError(f"Unknown paper '{paper_id}'. Valid papers: {', '.join(PAPERS)}")
    return PAPERS[paper_id]


def cite(paper_id: str) -> str:
    """How kcolor cites paper `paper_id` (see `Paper.cite`)."""
    return get_paper(paper_id).cite()


__all__ = ["PAPERS", "Paper", "cite", "get_paper"]
