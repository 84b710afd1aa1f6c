import BlytzServices
import Files

Files.main()
