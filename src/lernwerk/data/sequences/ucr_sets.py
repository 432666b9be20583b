"""What the vendored UCR/UEA sets are (names, shapes, classes, citations): facts only, so
that listing the built-in datasets loads no data code (`ucr` reads the files)."""

from __future__ import annotations

from typing import Any

_UCR = "Dau et al. (2019), The UCR Time Series Archive, IEEE/CAA J. Autom. Sinica 6(6)"
_UEA = "Bagnall et al. (2018), The UEA multivariate time series classification archive, 2018, arXiv:1811.00075"

UCR_SETS: dict[str, dict[str, Any]] = {
    "GunPoint": {
        "description": "x-coordinate of an actor's hand drawing a gun vs pointing a finger",
        "citation": f"Ratanamahatana & Keogh (2005), Three myths about dynamic time warping data mining, SDM; {_UCR}",
        "channels": 1,
        "lengths": (150, 150),
        "train_size": 50,
        "test_size": 150,
        "classes": ["1", "2"],
    },
    "ItalyPowerDemand": {
        "description": "24 hourly electricity demand values of a day in Italy: Oct-Mar vs Apr-Sep",
        "citation": f"Keogh et al. (2006), Intelligent Icons: integrating lite-weight data mining and visualization into GUI operating systems, ICDM; {_UCR}",
        "channels": 1,
        "lengths": (24, 24),
        "train_size": 67,
        "test_size": 1029,
        "classes": ["1", "2"],
    },
    "BasicMotions": {
        "description": "smart-watch 3D accelerometer and gyroscope, 10 s at 10 Hz: four activities",
        "citation": f"Clements, UEA student project, published in {_UEA}",
        "channels": 6,
        "lengths": (100, 100),
        "train_size": 40,
        "test_size": 40,
        "classes": ["Standing", "Running", "Walking", "Badminton"],
    },
    "PickupGestureWiimoteZ": {
        "description": "Wiimote z-axis acceleration of a pick-up gesture: which of 10 people made it",
        "citation": f"Guna, Humar & Pogačnik (2012), Intuitive gesture based user identification system, TSP; {_UCR}",
        "channels": 1,
        "lengths": (29, 361),
        "train_size": 50,
        "test_size": 50,
        "classes": [str(k) for k in range(1, 11)],
    },
    "JapaneseVowels": {
        "description": "12 LPC cepstrum coefficients of the vowel /ae/: which of 9 male speakers said it",
        "citation": f"Kudo, Toyama & Shimbo (1999), Multidimensional curve classification using passing-through regions, Pattern Recognition Letters 20(11-13); {_UEA}",
        "channels": 12,
        "lengths": (7, 29),
        "train_size": 270,
        "test_size": 370,
        "classes": [str(k) for k in range(1, 10)],
    },
}
