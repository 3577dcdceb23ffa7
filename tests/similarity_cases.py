# ruff: noqa: E501
"""Claims, paraphrases, near misses and unrelated sentences written for the similarity
tests: several topics, none from the seed story."""

# key -> stored claim text
STORED = {
    "quake-turkey": "A magnitude 7.8 earthquake struck southern Turkey near Gaziantep overnight",
    "election-brazil": "Lula da Silva won Brazil's presidential runoff with 50.9 percent of the vote",
    "merger-airlines": "Alaska Airlines agreed to buy Hawaiian Airlines for 1.9 billion dollars",
    "transfer-mbappe": "Kylian Mbappe signed a five-year contract with Real Madrid on a free transfer",
    "drug-alzheimers": "The FDA approved lecanemab, a new drug that slows Alzheimer's disease",
    "wildfire-maui": "Wildfires destroyed most of the historic town of Lahaina on Maui",
    "rates-ecb": "The European Central Bank raised its key interest rate by a quarter point",
    "strike-dockworkers": "Dockworkers at East Coast ports walked off the job in a strike over wages",
}

# (text, the stored claim it restates)
PARAPHRASES = [
    (
        "Southern Turkey was hit overnight by a 7.8 magnitude quake close to Gaziantep",
        "quake-turkey",
    ),
    ("Brazil presidential runoff won by Lula da Silva with 50.9% of votes", "election-brazil"),
    ("Hawaiian Airlines to be bought by Alaska Airlines in a $1.9 billion deal", "merger-airlines"),
    (
        "Mbappe joins Real Madrid on a free transfer, signing a five-year contract",
        "transfer-mbappe",
    ),
    ("Lecanemab, a drug slowing Alzheimer's, approved by the FDA", "drug-alzheimers"),
    ("The historic Maui town of Lahaina was mostly destroyed by wildfires", "wildfire-maui"),
    ("ECB raises key interest rate by a quarter of a point", "rates-ecb"),
    ("East Coast port dockworkers go on strike over wages", "strike-dockworkers"),
]

# Another subject that shares some words with a stored claim: nothing should be answered.
NEAR_MISSES = [
    "A magnitude 4.1 tremor was felt in California, with no damage reported",
    "The vote on the city budget was postponed until next week",
    "Airlines warn of delays as air traffic controllers in France strike",
    "Real estate prices in Madrid rose five percent in a year",
    "The drug store chain closed two hundred shops across the country",
    "The town council approved a new park on the historic square",
    "Mortgage interest was deductible under the old tax code",
    "The ports of Asia reported record container traffic",
]

UNRELATED = [
    "completely unrelated sentence about football",
    "The recipe calls for two cups of flour and a pinch of salt",
    "My cat sleeps on the windowsill every afternoon",
    "The museum reopened its dinosaur hall after renovation",
    "Astronomers photographed a comet passing near Jupiter",
    "The violinist played Bach partitas at the festival",
]
