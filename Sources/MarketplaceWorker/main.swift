import BlytzData
import Marketplace

ServiceMain.main(functions: Marketplace.functions, migrations: Marketplace.migrations)
