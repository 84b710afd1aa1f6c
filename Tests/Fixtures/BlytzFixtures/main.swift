import Blytz
