"""Search the NASNet cell space by evolution, REINFORCE or random search, on real data.

    python recipes/search.py --strategy evolution --data digits --trials 6
    python recipes/search.py --strategy reinforce --trials 20 --objective accuracy,macs --target-macs 2e6
    python recipes/search.py --genotype saved_models/search-evolution-digits/best_genotype.json \
        --final-cells 2 --final-filters 16 --final-epochs 10

Each candidate trains through the recipes' loop; the best genotype is then built at
--final-cells/--final-filters, trained and exported to int8 TFLite. Rerunning the same
command resumes. `python recipes/search.py --help` lists every flag.
"""

import sys

from keras_archs.search.cli import main

if __name__ == "__main__":
    sys.exit(main(description=__doc__))
